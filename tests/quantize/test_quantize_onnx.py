"""End to end: Gemma HF → ONNX int8 (optimum + onnxruntime), verified, and run by the
Engine's ONNX Runtime backend with the native sampler and grammar mask."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from edgeagent import Engine, Grammar, _core
from edgeagent.agent import Agent

PROMPT = "The capital of France is"


@pytest.fixture(scope="module")
def onnx_engine(gemma_onnx_int8) -> Engine:
    return Engine(gemma_onnx_int8.output, n_ctx=512, n_threads=2)


def test_onnx_int8_is_verified(gemma_onnx_int8):
    r = gemma_onnx_int8
    assert r.format == "onnx" and r.type == "int8"
    v = r.verification
    # Dynamic int8 (activations quantized on the fly) costs more than GGUF q8_0: measured
    # 75.5% top-1 and KL 0.15 on Gemma-270M (q8_0: >= 90%, < 0.05).
    assert v.top1_agreement >= 0.65
    assert v.kl_divergence < 0.3
    assert v.size_bytes < v.source_size_bytes  # int8 weights (the embedding stays float)
    meta = json.loads((Path(r.output) / "edgeagent.json").read_text())
    assert meta["type"] == "int8" and meta["format"] == "onnx"


def test_onnx_backend_generates_like_the_gguf(onnx_engine, gemma_q8):
    assert onnx_engine.backend == "onnxruntime"
    out = onnx_engine.generate(PROMPT, max_tokens=6)
    ref = Engine(gemma_q8.output, n_ctx=256, n_threads=2).generate(PROMPT, max_tokens=6)
    assert out.finish_reason == "length" and len(out.tokens) == 6
    assert out.tokens[:2] == ref.tokens[:2]  # same tokenizer, same model, close weights


def test_onnx_prefix_cache_and_streaming(onnx_engine):
    a = onnx_engine.generate(PROMPT, max_tokens=5)
    b = onnx_engine.generate(PROMPT, max_tokens=5)
    assert b.text == a.text
    assert b.timings.cached_tokens == len(onnx_engine.tokenize(PROMPT)) - 1
    stream = onnx_engine.stream(PROMPT, max_tokens=5)
    assert "".join(stream) == a.text and stream.result.tokens == a.tokens


def test_onnx_stop_strings(onnx_engine):
    full = onnx_engine.generate(PROMPT, max_tokens=8).text
    stop = full.split()[1]
    out = onnx_engine.generate(PROMPT, max_tokens=8, stop=[stop])
    assert out.finish_reason == "stop" and stop not in out.text


def test_onnx_grammar_and_json(onnx_engine):
    out = onnx_engine.generate("Is 7 prime? Answer:", grammar=Grammar.from_regex(" (yes|no)"))
    assert out.text in (" yes", " no") and out.finish_reason == "eos"
    schema = {"type": "object", "properties": {"name": {"type": "string", "maxLength": 12},
                                               "age": {"type": "integer", "minimum": 0, "maximum": 120}},
              "required": ["name", "age"]}
    value = onnx_engine.json("Invent a person.", schema, max_tokens=48)
    assert set(value) == {"name", "age"} and 0 <= value["age"] <= 120


def test_agent_call_on_the_onnx_backend(onnx_engine, qwen_path):
    """Grammar-constrained tool calls through the ONNX backend. Gemma base has no tool
    template, so the engine is given Qwen's (a real template read from the Qwen GGUF)."""
    params = _core.ModelParams()
    params.vocab_only = True
    own_template = onnx_engine.chat_template
    onnx_engine.chat_template = _core.Model.load(str(qwen_path), params).chat_template
    tools = [{"type": "function", "function": {
        "name": "get_weather", "description": "Current weather for a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string", "maxLength": 20}},
                       "required": ["city"]}}}]
    try:
        result = Agent(engine=onnx_engine).call("What is the weather in Oslo?", tools, mode="required",
                                                   parallel=False, max_tokens=48)
    finally:
        onnx_engine.chat_template = own_template
    assert len(result.calls) == 1, result
    assert result.calls[0].name == "get_weather" and isinstance(result.calls[0].arguments["city"], str)


def test_onnx_gate_reads_the_first_token_off_the_prompt(onnx_engine):
    # As on llama.cpp (tests/sdk/test_engine.py): the reply goes on only if the model's
    # own first token is one of the gate tokens. From an empty cache each time (int8
    # activations: a prompt evaluated after a cached prefix may flip a token).
    prompt = [{"role": "user", "content": "Is 7 prime?"}]
    own_template = onnx_engine.chat_template
    onnx_engine.chat_template = onnx_engine.chat_template or "{% for m in messages %}{{ m.content }}\n{% endfor %}"
    try:
        onnx_engine.reset()
        plain = onnx_engine.chat(prompt, max_tokens=3)
        first = plain.tokens[0]
        onnx_engine.reset()
        went = onnx_engine.chat(prompt, max_tokens=3, gate_tokens=[first])
        onnx_engine.reset()
        stopped = onnx_engine.chat(prompt, max_tokens=3, gate_tokens=[first + 1])
    finally:
        onnx_engine.chat_template = own_template
    assert went.gate_token == first and went.tokens == plain.tokens
    assert stopped.finish_reason == "gated" and stopped.gate_token == first and stopped.tokens == []


def test_onnx_all_logits_match_generation(onnx_engine):
    tokens = onnx_engine.tokenize(PROMPT)
    logits = onnx_engine._session.all_logits(tokens)
    assert logits.shape == (len(tokens), onnx_engine.n_vocab) and logits.dtype == np.float32
    # From an empty prefix cache, as all_logits runs: int8 activations are quantized with one
    # scale over the whole batch, so a prompt evaluated after a cached prefix may flip a token.
    onnx_engine.reset()
    greedy = onnx_engine.generate(tokens, max_tokens=1).tokens[0]
    assert int(np.argmax(logits[-1])) == greedy


def test_cli_runs_an_onnx_directory(gemma_onnx_int8, onnx_engine, cli):
    r = cli("run", gemma_onnx_int8.output, PROMPT, "--raw", "-n", "4", "--json")
    assert r.returncode == 0, r.stderr
    onnx_engine.reset()  # the CLI's fresh process evaluates the whole prompt in one batch
    assert json.loads(r.stdout)["text"] == onnx_engine.generate(PROMPT, max_tokens=4).text
