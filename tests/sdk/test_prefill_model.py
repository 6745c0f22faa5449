"""A prefill model (`Engine(prefill_model=...)`): a copy of the model in another type
evaluates the prompt's batch, its KV entries are copied into the model's context, and
the model samples. With the model's own file as its prefill model the copied entries are
the ones the model computes itself, so every output must be the one without it; that
pins the copy, the two prefix caches and the drafts across the hand-over."""

from __future__ import annotations

import pytest

from edgeagent import Agent, Engine, Grammar, models
from edgeagent.errors import InvalidParameterError

ADD = {"type": "function", "function": {
    "name": "add", "description": "Adds two integers.",
    "parameters": {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
                   "required": ["a", "b"]}}}
WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "Current weather for a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"},
                                                    "unit": {"enum": ["celsius", "fahrenheit"]}},
                   "required": ["city"]}}}
TOOLS = [WEATHER, ADD]


@pytest.fixture(scope="module")
def pair(qwen_path):
    """The same requests go to both, in the same order: one engine plain, one whose
    prefill model is its own file."""
    return (Engine(qwen_path, n_ctx=1024, n_threads=2),
            Engine(qwen_path, n_ctx=1024, n_threads=2, prefill_model=qwen_path))


def both(pair, call):
    plain, twin = (call(engine) for engine in pair)
    assert twin.text == plain.text and twin.tokens == plain.tokens and twin.finish_reason == plain.finish_reason
    assert not plain.timings.prefill_model
    return twin


def test_the_models_own_file_as_prefill_model_changes_no_output(pair):
    g = Grammar.from_tools(TOOLS, mode="required", parallel=2, format="json")
    # "-56": the ` ` drafted in the prompt's batch is dropped after the hand-over.
    for query in ["What is the weather in Oslo, in celsius?", "Add 1234 and -56.", "Add 7 and 8, then 9 and 10."]:
        msgs = [{"role": "user", "content": query}]
        twin = both(pair, lambda e: e.chat(msgs, tools=TOOLS, grammar=g, max_tokens=64, prefix="```json\n"))
        assert twin.timings.prefill_model and twin.finish_reason == "eos"
        if "-56" in query:
            assert twin.timings.accepted_drafts < twin.timings.drafted_tokens
    # Free text, then the conversation that continues it: the sampling context holds the
    # reply, the prefill model does not, so the context evaluates the new turn itself.
    first = [{"role": "user", "content": "An apple, a river, a mountain and a cloud each have a colour. Name one."}]
    reply = both(pair, lambda e: e.chat(first, max_tokens=12))
    assert reply.timings.prefill_model
    more = first + [{"role": "assistant", "content": reply.text}, {"role": "user", "content": "And another one?"}]
    assert not both(pair, lambda e: e.chat(more, max_tokens=12)).timings.prefill_model


def test_a_batch_too_small_to_gain_stays_in_the_models_context(pair):
    prompt = pair[0].tokenize("The quick brown fox jumps over the lazy dog. " * 6)
    assert both(pair, lambda e: e.generate(prompt, max_tokens=4)).timings.prefill_model
    grown = prompt + pair[0].tokenize(" It was", add_special=False)  # a few new tokens
    assert not both(pair, lambda e: e.generate(grown, max_tokens=4)).timings.prefill_model


def test_the_bf16_copy_prefills_the_q4_k_m_file(qwen_path):
    agent = Agent(qwen_path, n_ctx=1024, n_threads=2, prefill_model=models.BF16_MODEL)
    r = agent.call("What is the weather in Oslo, in celsius?", TOOLS)
    assert [c.to_dict() for c in r.calls] == [{"name": "get_weather", "arguments": {"city": "Oslo", "unit": "celsius"}}]
    assert r.generation.timings.prefill_model


def test_a_prefill_model_that_is_no_copy_is_refused(qwen_path, gemma_path, tmp_path):
    with pytest.raises(InvalidParameterError, match="not a copy of"):
        Engine(qwen_path, n_ctx=256, n_threads=1, prefill_model=gemma_path)
    with pytest.raises(InvalidParameterError, match="prefill_model goes to the Engine"):
        Agent(engine=Engine(gemma_path, n_ctx=256, n_threads=1), prefill_model=qwen_path)


def test_cli_call_takes_a_prefill_model(cli, tmp_path, qwen_path):
    import json

    tools = tmp_path / "tools.json"
    tools.write_text(json.dumps(TOOLS))
    r = cli("call", "Add 2 and 3.", "--tools", str(tools), "--model", str(qwen_path), "--prefill-model",
            models.BF16_MODEL, "--threads", "2")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["calls"] == [{"name": "add", "arguments": {"a": 2, "b": 3}}]
    r = cli("call", "Add 2 and 3.", "--tools", str(tools), "--prefill-model", "gemma-3-270m-q4_k_m")
    assert r.returncode == 2 and "not a copy of" in r.stderr


def test_auto_takes_the_bf16_copy_for_the_default_model_only(qwen_path):
    assert Engine(n_ctx=256, n_threads=1).prefill_model_path == models.prefill_copy(None)
    assert Engine(qwen_path, n_ctx=256, n_threads=1).prefill_model_path is None  # a path: as it is
    assert Engine(n_ctx=256, n_threads=1, prefill_model=None).prefill_model_path is None
