"""Constrained generation end to end on the real Qwen model (kept short), plus tool-call
envelope properties checked by random walks through the matcher."""

from __future__ import annotations

import json
import re

import jsonschema
import numpy as np
import pytest

from edgeagent import Grammar

import grammar_walk as gw

WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "Current weather for a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string", "maxLength": 40},
                                                    "unit": {"enum": ["celsius", "fahrenheit"]}},
                   "required": ["city"]}}}
ADD = {"type": "function", "function": {
    "name": "add", "description": "Adds two integers.",
    "parameters": {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
                   "required": ["a", "b"]}}}
SEND = {"type": "function", "function": {
    "name": "send_email", "description": "Sends an email.",
    "parameters": {"type": "object", "properties": {"to": {"type": "string", "format": "email"},
                                                    "subject": {"type": "string", "maxLength": 30}},
                   "required": ["to", "subject"]}}}
TOOLS = [WEATHER, ADD, SEND]
SCHEMAS = {t["function"]["name"]: t["function"]["parameters"] for t in TOOLS}
CALL = re.compile(r"<tool_call>\n(.*?)\n</tool_call>", re.S)
CALLS_ONLY = re.compile(r"<tool_call>\n.*?\n</tool_call>(\n<tool_call>\n.*?\n</tool_call>)*", re.S)


def parse_calls(text: str) -> list[dict]:
    """Every <tool_call> block: parsed, named after a known tool, arguments valid."""
    calls = []
    for body in CALL.findall(text):
        call = json.loads(body)
        assert set(call) == {"name", "arguments"}, body
        jsonschema.validate(call["arguments"], SCHEMAS[call["name"]],
                            format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
        calls.append(call)
    return calls


def ask(engine, prompt, grammar, **opts):
    return engine.chat([{"role": "user", "content": prompt}], tools=TOOLS, grammar=grammar,
                       **{"max_tokens": 64, **opts})


@pytest.fixture(scope="module")
def qwen_vocab(qwen):
    return gw.Vocab(qwen)


# ---------------------------------------------------------------- engine.json
@pytest.mark.parametrize("schema", [
    {"type": "object", "properties": {"name": {"type": "string", "maxLength": 20}, "age": {"type": "integer",
                                      "minimum": 0, "maximum": 130}}, "required": ["name", "age"]},
    {"type": "array", "items": {"enum": ["red", "green", "blue"]}, "minItems": 2, "maxItems": 3},
    {"type": "object", "properties": {"date": {"type": "string", "format": "date"},
                                      "ok": {"type": "boolean"}}, "required": ["date", "ok"]},
], ids=["person", "colors", "date"])
def test_engine_json_returns_valid_objects(qwen, schema):
    value = qwen.json("Give an example as JSON.", schema, max_tokens=48)
    jsonschema.validate(value, schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


# ---------------------------------------------------------------- tool-call modes on the model
def test_mode_required_always_yields_valid_tool_calls(qwen):
    g = Grammar.from_tools(TOOLS, mode="required")
    for prompt, opts in [("What is the weather in Paris?", {}), ("Tell me a joke.", {"temperature": 0.8, "seed": 3})]:
        out = ask(qwen, prompt, g, **opts)
        assert out.finish_reason == "eos", (prompt, out.text)
        assert CALLS_ONLY.fullmatch(out.text), out.text
        assert len(parse_calls(out.text)) == 1, out.text


def test_mode_none_never_yields_a_tool_call(qwen):
    g = Grammar.from_tools(TOOLS, mode="none")
    for prompt in ["What is the weather in Paris?"]:
        out = ask(qwen, prompt, g, max_tokens=24)
        assert "<tool_call>" not in out.text, out.text


def test_named_mode_only_calls_that_tool(qwen):
    g = Grammar.from_tools(TOOLS, mode="add")
    out = ask(qwen, "What is the weather in Paris?", g)
    calls = parse_calls(out.text)
    assert calls and all(c["name"] == "add" for c in calls), out.text


# ---------------------------------------------------------------- tool-call envelopes by random walks
def _walk_outputs(engine, vocab, grammar, n, seed, disable=()):
    m = engine.matcher(grammar)
    rng = np.random.default_rng(seed)
    outs = []
    for _ in range(n * 3):
        if len(outs) >= n:
            break
        m.reset()
        for name in disable:
            m.set_tool_enabled(name, False)
        out = _manual_walk(m, vocab, rng)  # no reset inside: the tool gates set above must stay
        if out is not None:
            outs.append(out.decode("utf-8"))
    assert len(outs) >= n * 0.8, f"only {len(outs)} of {n} walks finished"
    return outs


def _manual_walk(m, vocab, rng, max_steps=400):
    """A random walk like grammar_walk.walk, from the matcher's current state."""
    out = []
    for _ in range(max_steps):
        mask = m.fill_next_token_bitmask()
        eos = mask & vocab.eog_words
        rest = mask & vocab.not_eog_words
        if eos.any() and (rng.random() < 0.6 or not rest.any()):
            assert m.accept_token(gw.sample_bit(eos, rng)) and m.is_terminated()
            return b"".join(out)
        tok = gw.sample_bit(rest & vocab.closer_words, rng) if rng.random() < 0.2 else -1
        if tok < 0:
            tok = gw.sample_bit(rest, rng)
        assert tok >= 0, f"dead end after {b''.join(out)!r}"
        assert m.accept_token(tok)
        out.append(vocab.token_bytes[tok])
    return None


def test_required_mode_walks_are_calls_only(qwen, qwen_vocab):
    for text in _walk_outputs(qwen, qwen_vocab, Grammar.from_tools(TOOLS, mode="required"), 60, seed=1):
        assert CALLS_ONLY.fullmatch(text), text
        assert len(parse_calls(text)) == 1, text


def test_parallel_3_walks_yield_one_to_three_valid_calls(qwen, qwen_vocab):
    counts = set()
    for text in _walk_outputs(qwen, qwen_vocab, Grammar.from_tools(TOOLS, mode="required", parallel=3), 80, seed=2):
        assert CALLS_ONLY.fullmatch(text), text
        n = len(parse_calls(text))
        assert 1 <= n <= 3 and text.count("<tool_call>") == n, text
        counts.add(n)
    assert counts == {1, 2, 3}, counts  # the walks really explore up to the bound


def test_auto_and_none_mode_walks(qwen, qwen_vocab):
    for text in _walk_outputs(qwen, qwen_vocab, Grammar.from_tools(TOOLS, mode="none"), 40, seed=3):
        assert "<tool_call>" not in text, text
    auto = _walk_outputs(qwen, qwen_vocab, Grammar.from_tools(TOOLS, mode="auto"), 60, seed=4)
    for text in auto:
        head, _, _ = text.partition("<tool_call>")
        assert "</tool_call>" not in head, text
        parse_calls(text)


def test_named_mode_walks_only_call_that_tool(qwen, qwen_vocab):
    for text in _walk_outputs(qwen, qwen_vocab, Grammar.from_tools(TOOLS, mode="send_email", parallel=2), 40, seed=5):
        calls = parse_calls(text)
        assert calls and all(c["name"] == "send_email" for c in calls), text


def test_disabled_tool_never_appears(qwen, qwen_vocab):
    g = Grammar.from_tools(TOOLS, mode="required", parallel=2)
    outs = _walk_outputs(qwen, qwen_vocab, g, 80, seed=6, disable=["get_weather"])
    names = {c["name"] for text in outs for c in parse_calls(text)}
    assert "get_weather" not in names and names == {"add", "send_email"}, names
    # Disabling every tool leaves nothing to generate in required mode; re-enabling restores it.
    m = qwen.matcher(g)
    for t in ("get_weather", "add", "send_email"):
        m.set_tool_enabled(t, False)
    m.accept_bytes(b'<tool_call>\n{"name": "')
    assert not m.fill_next_token_bitmask().any()
    m.set_tool_enabled("add", True)
    assert m.accept_bytes(b'add"')
    with pytest.raises(Exception):
        m.set_tool_enabled("no_such_tool", False)


# ---------------------------------------------------------------- jump-forward, regex, GBNF
def test_jump_forward_forces_tokens_and_does_not_change_greedy_output(qwen):
    g = Grammar.from_tools(TOOLS, mode="required")
    msgs = [{"role": "user", "content": "What is the weather in Oslo, in celsius?"}]
    fast = qwen.chat(msgs, tools=TOOLS, grammar=g, max_tokens=64)
    slow = qwen.chat(msgs, tools=TOOLS, grammar=g, max_tokens=64, jump_forward=False)
    assert fast.timings.forced_tokens > 0
    assert slow.timings.forced_tokens == 0
    assert fast.text == slow.text, (fast.text, slow.text)
    assert parse_calls(fast.text)


def test_forced_opening_and_closing_do_not_change_greedy_output(qwen):
    # The opening a grammar forces (`[{"name": "`) is decoded with the prompt, and a
    # closing token after which only the end may come is not evaluated: neither may
    # change what is written, at any max_tokens (the opening is not forced past it).
    g = Grammar.from_tools(TOOLS, mode="required", parallel=2, format="json")
    msgs = [{"role": "user", "content": "What is the weather in Oslo, in celsius?"}]
    for max_tokens in (1, 2, 3, 5, 64):
        fast = qwen.chat(msgs, tools=TOOLS, grammar=g, max_tokens=max_tokens, prefix="```json\n")
        slow = qwen.chat(msgs, tools=TOOLS, grammar=g, max_tokens=max_tokens, prefix="```json\n",
                         jump_forward=False)
        assert fast.text == slow.text, (max_tokens, fast.text, slow.text)
        assert fast.finish_reason == slow.finish_reason, (max_tokens, fast.finish_reason, slow.finish_reason)
        assert fast.timings.generated_tokens <= max_tokens
    assert fast.finish_reason == "eos" and json.loads(fast.text)[0]["name"] == "get_weather"
    assert fast.timings.forced_tokens > 0


def with_and_without(engine, query, option):
    """The greedy tool-call replies to `query` with a decoding option on (its default) and
    off; seeded sampling must write the same text either way."""
    g = Grammar.from_tools(TOOLS, mode="required", parallel=2, format="json")
    msgs = [{"role": "user", "content": query}]
    reply = lambda **opts: engine.chat(msgs, tools=TOOLS, grammar=g, max_tokens=64, prefix="```json\n", **opts)
    seeded = dict(temperature=0.8, seed=3)
    assert reply(**seeded).text == reply(**seeded, **{option: False}).text
    return reply(), reply(**{option: False})


@pytest.mark.parametrize("query", ["What is the weather in Oslo, in celsius?", "Add 1234 and -56.",
                                   "Email bob@example.com that the meeting moved, and add 7 and 8."])
def test_sparse_logits_do_not_change_greedy_output(qwen, query):
    # Where the grammar allows few tokens (digits, `,`, a property name) only their logits
    # are computed, from the final hidden state: the choices must be the full layer's.
    sparse, full = with_and_without(qwen, query, "sparse_logits")
    assert sparse.text == full.text and sparse.tokens == full.tokens
    assert sparse.timings.sparse_steps > 0 and full.timings.sparse_steps == 0


@pytest.mark.parametrize("query", ["Add 1234 and 56.", "Add 1234 and -56.",
                                   "What is the weather in Oslo, in celsius?"])
def test_boundary_drafts_keep_the_output_and_save_steps(qwen, query):
    # The token a forced run leaves to the model (` ` before a number, ` "` before a
    # string) is evaluated in the run's batch: kept when the model picks it, dropped when
    # it picks another (` -` before -56). The output is the one without drafts, and every
    # draft kept is a step saved.
    on, off = with_and_without(qwen, query, "boundary_draft")
    assert on.text == off.text and on.tokens == off.tokens and on.finish_reason == "eos"
    assert off.timings.drafted_tokens == 0
    assert 0 < on.timings.accepted_drafts <= on.timings.drafted_tokens
    sampled = lambda t: t.generated_tokens - t.forced_tokens
    assert sampled(on.timings) == sampled(off.timings)
    call = json.loads(on.text)[0]
    if "-56" in query:  # the model wrote ` -` where ` ` was drafted: that draft was dropped
        assert call["arguments"]["b"] == -56 and on.timings.accepted_drafts < on.timings.drafted_tokens


def test_boundary_drafts_stop_at_max_tokens_and_leave_the_cache_whole(qwen):
    # At every max_tokens the output is the one without drafts and no longer; a draft
    # evaluated but not output (cut by max_tokens, or dropped) leaves no KV entry behind:
    # the next request over the same prompt continues from the cache alike.
    g = Grammar.from_tools(TOOLS, mode="required", parallel=2, format="json")
    msgs = [{"role": "user", "content": "Add 1234 and -56, then add 7 and 8."}]
    for max_tokens in (1, 2, 3, 4, 6, 9, 13, 40):
        on = qwen.chat(msgs, tools=TOOLS, grammar=g, max_tokens=max_tokens, prefix="```json\n")
        off = qwen.chat(msgs, tools=TOOLS, grammar=g, max_tokens=max_tokens, prefix="```json\n",
                        boundary_draft=False)
        assert (on.text, on.finish_reason) == (off.text, off.finish_reason), max_tokens
        assert on.timings.generated_tokens <= max_tokens
    again = qwen.chat(msgs, tools=TOOLS, grammar=g, max_tokens=40, prefix="```json\n")
    assert again.text == on.text and again.timings.cached_tokens > 0


def test_sparse_logits_on_a_large_vocabulary(gemma):
    # Gemma 3: 262,144 tokens; the output matrix is its token embeddings.
    g = Grammar.from_regex(r"(19|20)\d\d-(0[1-9]|1[0-2])")
    sparse = gemma.generate("The first moon landing happened in ", grammar=g, max_tokens=12)
    full = gemma.generate("The first moon landing happened in ", grammar=g, max_tokens=12, sparse_logits=False)
    assert sparse.text == full.text and re.fullmatch(r"(19|20)\d\d-(0[1-9]|1[0-2])", sparse.text)
    assert sparse.timings.sparse_steps > 0


def test_regex_grammar_constrains_generation(qwen):
    g = Grammar.from_regex(r"\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])")
    for opts in ({}, {"temperature": 1.0, "seed": 11}):
        out = qwen.generate("The date of the moon landing was ", grammar=g, max_tokens=16, **opts)
        assert out.finish_reason == "eos"
        assert re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])", out.text), out.text


def test_gbnf_grammar_constrains_generation(qwen):
    g = Grammar.from_ebnf('root ::= answer " because " reason\nanswer ::= "yes" | "no"\nreason ::= [a-z ]{1,30} "."')
    for opts in ({}, {"temperature": 1.0, "seed": 5}):
        out = qwen.generate("Is the sky blue? Answer:", grammar=g, max_tokens=24, **opts)
        assert out.finish_reason == "eos", out.text
        assert re.fullmatch(r"(yes|no) because [a-z ]{1,30}\.", out.text), out.text


def _check_json_call(call: dict) -> None:
    assert set(call) == {"name", "arguments"}, call
    jsonschema.validate(call["arguments"], SCHEMAS[call["name"]],
                        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def test_json_object_walks_are_one_bare_call(qwen, qwen_vocab):
    for text in _walk_outputs(qwen, qwen_vocab, Grammar.from_tools(TOOLS, mode="required", format="json_object"),
                              60, seed=6):
        value = json.loads(text)
        assert isinstance(value, dict), text
        _check_json_call(value)


def test_json_array_walks_hold_one_to_n_calls(qwen, qwen_vocab):
    counts = set()
    for text in _walk_outputs(qwen, qwen_vocab, Grammar.from_tools(TOOLS, mode="required", parallel=3, format="json"),
                              80, seed=7):
        value = json.loads(text)
        assert isinstance(value, list) and 1 <= len(value) <= 3, text
        for call in value:
            _check_json_call(call)
        counts.add(len(value))
    assert counts == {1, 2, 3}, counts


def test_json_object_format_holds_exactly_one_call():
    with pytest.raises(Exception, match="exactly one call"):
        Grammar.from_tools(TOOLS, mode="required", parallel=2, format="json_object")
    with pytest.raises(Exception, match="json_object"):
        Grammar.from_tools(TOOLS, format="yaml")
