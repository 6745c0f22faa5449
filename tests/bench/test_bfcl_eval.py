"""Tests of the BFCL harness (edgeagent.bench.bfcl_eval), the lenient call parser and the
peers (edgeagent.bench.bfcl_peers), and `edgeagent eval bfcl` end to end.

The harness is checked with deterministic methods on real dev items (the oracle must
score 100%, an empty answer 0% except irrelevance); the real model runs only in the
two end-to-end tests, on one or two items.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli_runner import run_cli as edgeagent
from edgeagent.bench import bfcl, bfcl_eval
from edgeagent.bench.bfcl_peers import LlamaCppChatmlFunctionCalling, _safe_names, parse_tool_calls
from edgeagent.errors import UserInputError

DEV_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "bench" / "bfcl-dev"
DEV_CATEGORIES = ("simple_python", "multiple", "parallel", "parallel_multiple", "irrelevance")

needs_dev = pytest.mark.skipif(
    not DEV_DIR.is_dir(), reason=f"BFCL dev data not found at {DEV_DIR} (expected shared/ beside the repo)"
)

# No example database: the tests must not write .hypothesis/ into the repo.
PROPERTY = settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


# ---------------------------------------------------------------------------
# parse_tool_calls
# ---------------------------------------------------------------------------


def test_parses_the_qwen_tool_call_format():
    text = '<tool_call>\n{"name": "math.hypot", "arguments": {"x": 4, "y": 5}}\n</tool_call>'
    assert parse_tool_calls(text) == [{"name": "math.hypot", "arguments": {"x": 4, "y": 5}}]


@pytest.mark.parametrize(
    "text, expected",
    [
        # several blocks, the last unterminated, arguments as a JSON string
        ('<tool_call>{"name": "a", "arguments": {"x": 1}}</tool_call>\n<tool_call>\n{"name": "b", "arguments": "{\\"y\\": 2}"}',
         [{"name": "a", "arguments": {"x": 1}}, {"name": "b", "arguments": {"y": 2}}]),
        # "parameters" instead of "arguments", in a fenced block holding a list
        ('Here:\n```json\n[{"name": "f", "parameters": {"q": "x"}}, {"name": "g", "parameters": {}}]\n```\nDone.',
         [{"name": "f", "arguments": {"q": "x"}}, {"name": "g", "arguments": {}}]),
        # fence without a language tag
        ('```\n{"name": "f", "arguments": {}}\n```', [{"name": "f", "arguments": {}}]),
        # OpenAI's shape, bare in prose
        ('I will call {"type": "function", "function": {"name": "g", "arguments": "{}"}} now.',
         [{"name": "g", "arguments": {}}]),
        # {"tool_calls": [...]}
        ('{"tool_calls": [{"function": {"name": "h", "arguments": {"a": [1, 2]}}}]}',
         [{"name": "h", "arguments": {"a": [1, 2]}}]),
        # a broken block is skipped; a good one after it still counts
        ('<tool_call>{"name": "a", "arguments": {</tool_call><tool_call>{"name": "b", "arguments": {}}</tool_call>',
         [{"name": "b", "arguments": {}}]),
        # <tool_call> blocks win over a JSON example elsewhere in the text
        ('e.g. {"name": "x", "arguments": {}}\n<tool_call>{"name": "y", "arguments": {}}</tool_call>',
         [{"name": "y", "arguments": {}}]),
    ],
)
def test_parses_the_lenient_shapes(text, expected):
    assert parse_tool_calls(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "The capital of France is Paris.",
        "{}",
        "[1, 2, 3]",
        '{"name": "f"}',  # no arguments: not a call
        '{"arguments": {}}',  # no name
        '{"name": "", "arguments": {}}',
        '{"name": 3, "arguments": {}}',
        '{"name": "f", "arguments": [1]}',
        '{"name": "f", "arguments": "not json"}',
        '{"name": "f", "arguments": "[1]"}',
        '<tool_call>\n{"name": "f", "arguments": {"x": 1',  # cut off mid-call
        "<tool_call></tool_call>",
        "```json\n```",
        "[" * 5000 + "]" * 10,  # deep nesting must not raise RecursionError
        None,
    ],
)
def test_garbage_gives_no_call(text):
    assert parse_tool_calls(text) == []


# Strings never hold "<" or "`", so the text inside a JSON value cannot open a block itself.
_chars = st.characters(blacklist_characters="<`", blacklist_categories=("Cs",))
_scalars = (st.none() | st.booleans() | st.integers(-10**12, 10**12)
            | st.floats(allow_nan=False, allow_infinity=False) | st.text(_chars, max_size=12))
# Keys of at most 8 characters can never be "arguments"/"parameters"/"tool_calls": no
# nested value looks like a call, so what parses back is exactly the outer calls.
_values = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=3)
                       | st.dictionaries(st.text(_chars, max_size=8), inner, max_size=3), max_leaves=8)
_names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,12}(\.[A-Za-z_][A-Za-z0-9_]{0,8})?", fullmatch=True)
_calls = st.lists(st.fixed_dictionaries({"name": _names,
                                         "arguments": st.dictionaries(st.text(_chars, max_size=8), _values, max_size=4)}),
                  min_size=1, max_size=3)
# Prose around the calls: anything without a bracket, brace, "<" or "`".
_prose = st.text(st.characters(blacklist_characters="{[<`", blacklist_categories=("Cs",)), max_size=40)


def _render(calls: list[dict], style: str, ascii_only: bool, before: str, after: str) -> str:
    dumps = lambda v: json.dumps(v, ensure_ascii=ascii_only)  # noqa: E731
    if style == "tool_call":
        body = "\n".join(f"<tool_call>\n{dumps(c)}\n</tool_call>" for c in calls)
    elif style == "tool_call_unterminated":
        body = "\n".join(f"<tool_call>\n{dumps(c)}\n</tool_call>" for c in calls)[: -len("</tool_call>")]
    elif style == "tool_call_parameters":
        body = "".join(f"<tool_call>{dumps({'name': c['name'], 'parameters': c['arguments']})}</tool_call>" for c in calls)
    elif style == "tool_call_string_arguments":
        body = "".join(f"<tool_call>{dumps({'name': c['name'], 'arguments': dumps(c['arguments'])})}</tool_call>"
                       for c in calls)
    elif style == "fenced_list":
        body = f"```json\n{dumps(calls)}\n```"
    elif style == "fenced_each":
        body = "\n".join(f"```json\n{dumps(c)}\n```" for c in calls)
    elif style == "openai":
        body = dumps({"tool_calls": [{"type": "function", "function": {"name": c["name"], "arguments": dumps(c["arguments"])}}
                                     for c in calls]})
    elif style == "bare_each":
        body = " and ".join(dumps(c) for c in calls)
    elif style == "bare_list":
        body = dumps(calls)
    else:
        raise AssertionError(style)
    return f"{before}\n{body}\n{after}" if not style.endswith("unterminated") else f"{before}\n{body}"


STYLES = ["tool_call", "tool_call_unterminated", "tool_call_parameters", "tool_call_string_arguments",
          "fenced_list", "fenced_each", "openai", "bare_each", "bare_list"]


@PROPERTY
@given(calls=_calls, style=st.sampled_from(STYLES), ascii_only=st.booleans(), before=_prose, after=_prose)
def test_any_calls_rendered_in_any_supported_format_parse_back(calls, style, ascii_only, before, after):
    assert parse_tool_calls(_render(calls, style, ascii_only, before, after)) == calls


@PROPERTY
@given(text=st.text(max_size=300))
def test_arbitrary_text_never_raises(text):
    assert isinstance(parse_tool_calls(text), list)


@PROPERTY
@given(text=st.text(st.characters(blacklist_characters="{[", blacklist_categories=("Cs",)), max_size=300))
def test_text_without_json_gives_no_call(text):
    assert parse_tool_calls(text) == []


@PROPERTY
@given(calls=_calls, style=st.sampled_from(["tool_call", "fenced_list", "bare_list", "bare_each"]), data=st.data())
def test_calls_cut_off_before_their_end_give_no_call(calls, style, data):
    text = _render(calls[:1], style, True, "", "")
    end = text.rindex("}") if style != "bare_list" else text.rindex("]")
    cut = data.draw(st.integers(0, end - 1))
    assert parse_tool_calls(text[:cut]) == []


# ---------------------------------------------------------------------------
# The harness
# ---------------------------------------------------------------------------


class Oracle:
    name = "oracle"

    def predict(self, item):
        return bfcl.reference_calls(item)


class Silent:
    name = "silent"

    def predict(self, item):
        return []


class Broken:
    name = "broken"

    def predict(self, item):
        raise RuntimeError("boom")


class NotAList:
    name = "not-a-list"

    def predict(self, item):
        return {"name": "f", "arguments": {}}


@needs_dev
def test_the_oracle_scores_100_percent_on_every_dev_category():
    report = bfcl_eval.evaluate(Oracle(), DEV_DIR, DEV_CATEGORIES, limit=3)
    assert report["method"] == "oracle"
    assert list(report["categories"]) == list(DEV_CATEGORIES)
    for category, entry in report["categories"].items():
        assert entry["count"] == 3 and entry["accuracy"] == 1.0 and entry["errors"] == 0, category
        assert 0 <= entry["latency_median_s"] <= entry["latency_p90_s"]
    assert len(report["items"]) == 15 and all(r["ok"] and r["reason"] == "" for r in report["items"])
    assert [r["id"] for r in report["items"][:3]] == [i.id for i in bfcl.load_category(DEV_DIR, "simple_python")[:3]]


@needs_dev
def test_no_call_scores_zero_except_irrelevance():
    seen = []
    report = bfcl_eval.evaluate(Silent(), DEV_DIR, DEV_CATEGORIES, limit=2,
                                progress=lambda name, item, record: seen.append((name, item.id, record["ok"])))
    accuracy = {c: e["accuracy"] for c, e in report["categories"].items()}
    assert accuracy == {"simple_python": 0.0, "multiple": 0.0, "parallel": 0.0, "parallel_multiple": 0.0,
                        "irrelevance": 1.0}
    assert len(seen) == 10 and all(name == "silent" for name, _, _ in seen)
    assert "1 call expected, 0 made" in report["items"][0]["reason"]


@needs_dev
@pytest.mark.parametrize("method, message", [(Broken(), "RuntimeError: boom"), (NotAList(), "not a list")])
def test_a_failing_method_misses_every_item_and_the_run_goes_on(method, message):
    report = bfcl_eval.evaluate(method, DEV_DIR, ["simple_python", "irrelevance"], limit=2)
    for entry in report["categories"].values():
        assert entry["accuracy"] == 0.0 and entry["errors"] == 2  # an error never passes, not even irrelevance
    assert all(message in r["reason"] and r["calls"] == [] for r in report["items"])


@needs_dev
def test_predictions_of_a_report_round_trip_through_the_predictions_file(tmp_path):
    items = bfcl_eval.load_items(DEV_DIR, ["parallel", "simple"], limit=2)
    report = bfcl_eval.evaluate_items(Oracle(), items)
    path = tmp_path / "out" / "predictions.jsonl"
    bfcl.write_predictions(path, bfcl_eval.predictions_of(report))
    back = bfcl.read_predictions(path)
    assert [p.id for p in back] == [i.id for i in items]
    assert all(r.ok for r in bfcl.score_predictions(items, back))


@pytest.mark.parametrize(
    "categories, limit, data, message",
    [
        (["simple_python"], 0, DEV_DIR, "--limit must be a positive integer"),
        (["simple_python"], -3, DEV_DIR, "--limit must be a positive integer"),
        (["simple_pyhton"], None, DEV_DIR, "unknown BFCL category 'simple_pyhton'"),
        (["multiple", "multiple"], None, DEV_DIR, "more than once: multiple"),
        ([], None, DEV_DIR, "at least one BFCL category"),
        (["simple_python"], None, DEV_DIR / "nope", "data directory not found"),
    ],
)
def test_bad_input_is_refused_before_anything_runs(categories, limit, data, message):
    with pytest.raises(UserInputError, match=message):
        bfcl_eval.load_items(data, categories, limit)


def test_a_missing_category_file_is_named(tmp_path):
    with pytest.raises(UserInputError, match=r"no file .*parallel\.jsonl"):
        bfcl_eval.load_items(tmp_path, ["parallel"])


def test_unknown_methods_are_refused_and_the_registry_holds_both_peers():
    assert {"edgeagent", "template", "chatml"} <= set(bfcl_eval.METHODS) and bfcl_eval.DEFAULT_METHOD in bfcl_eval.METHODS
    with pytest.raises(UserInputError, match="unknown method 'magic'"):
        bfcl_eval.make_method("magic")


def test_tool_names_are_made_openai_safe_and_unique():
    mapping = _safe_names(["math.hypot", "math_hypot", "a-b", "x.y.z"])
    assert mapping == {"math.hypot": "math_hypot", "math_hypot": "math_hypot_2", "a-b": "a-b", "x.y.z": "x_y_z"}


# ---------------------------------------------------------------------------
# End to end, with the real default model
# ---------------------------------------------------------------------------


@needs_dev
def test_the_chatml_peer_maps_dotted_names_back(qwen_path):
    item = next(i for i in bfcl.load_category(DEV_DIR, "simple_python") if "." in i.tools[0]["function"]["name"])
    peer = LlamaCppChatmlFunctionCalling(qwen_path, n_threads=2, n_ctx=2048)
    calls = peer.predict(item)
    assert peer.last_message["role"] == "assistant"
    assert all(c["name"] == item.tools[0]["function"]["name"] and isinstance(c["arguments"], dict) for c in calls)


@needs_dev
def test_eval_bfcl_cli_end_to_end(tmp_path, qwen_path):
    out = tmp_path / "predictions.jsonl"
    r = edgeagent("eval", "bfcl", "--data", str(DEV_DIR), "--category", "simple_python", "--limit", "2",
                  "--json", "--predictions", str(out), timeout=300)
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["primary"] == "edgeagent" and list(report["methods"]) == ["edgeagent"]
    entry = report["methods"]["edgeagent"]["simple_python"]
    assert entry["count"] == 2 and 0 <= entry["accuracy"] <= 1 and entry["latency_median_s"] > 0
    assert [i["id"] for i in report["items"]["edgeagent"]] == ["simple_python_0", "simple_python_2"]
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["id"] for line in lines] == ["simple_python_0", "simple_python_2"]
    assert all(set(line) == {"id", "calls", "latency_s"} and line["latency_s"] > 0 for line in lines)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--category", "simple_python", "--limit", "0"], "--limit must be a positive integer"),
        (["--category", "nonsense"], "unknown BFCL category 'nonsense'"),
        (["--category", "simple_python", "--method", "magic"], "unknown method 'magic'"),
        (["--category", "simple_python", "--predictions", str(DEV_DIR)], "is a directory"),
    ],
)
def test_eval_bfcl_cli_refuses_bad_input_with_exit_2(args, message):
    r = edgeagent("eval", "bfcl", "--data", str(DEV_DIR), *args)
    assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr


def test_eval_bfcl_cli_refuses_a_missing_data_directory(tmp_path):
    r = edgeagent("eval", "bfcl", "--data", str(tmp_path / "missing"), "--category", "simple_python")
    assert r.returncode == 2 and "data directory not found" in r.stderr
