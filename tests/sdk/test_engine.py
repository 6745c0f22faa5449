"""The native decode loop end to end, on the real bundled models."""

from __future__ import annotations

import pytest

from edgeagent import Engine, Grammar
from edgeagent.errors import ContextOverflowError, InvalidParameterError

PROMPT = "The three primary colors are"


def test_greedy_is_deterministic_and_reports_timings(gemma):
    # Both from an empty cache: on a cache hit only the last prompt token is evaluated, a
    # one-token batch whose float sums differ slightly from the prompt's batch, and this
    # prompt's next tokens are a near tie on the 270M model (" blue," / " blue and"). Run
    # alone, the test compared those two paths; after other tests, two cache hits.
    gemma.reset()
    a = gemma.generate(PROMPT, max_tokens=12)
    gemma.reset()
    b = gemma.generate(PROMPT, max_tokens=12)
    assert a.text == b.text and a.tokens == b.tokens
    assert a.finish_reason == "length" and len(a.tokens) == 12
    t = a.timings
    assert t.prompt_tokens == len(gemma.tokenize(PROMPT))
    assert t.generated_tokens == 12
    assert t.decode_tok_s > 0 and t.ttft_ms > 0 and t.total_ms >= t.ttft_ms
    assert gemma.detokenize(a.tokens) == a.text


def test_prefix_cache_reuses_prompt_and_does_not_change_output(gemma_path, gemma):
    system = "You are a terse assistant that answers in one short sentence. " * 4
    first = gemma.generate(system + "Question: what is 2+2?", max_tokens=8)
    second = gemma.generate(system + "Question: what color is the sky?", max_tokens=8)
    shared = len(gemma.tokenize(system + "Question: what"))
    assert second.timings.cached_tokens >= shared - 2
    assert second.timings.cached_tokens < second.timings.prompt_tokens
    # The same request on a fresh engine (nothing cached) gives the same tokens.
    fresh = Engine(gemma_path, n_ctx=1024, n_threads=2)
    again = fresh.generate(system + "Question: what color is the sky?", max_tokens=8)
    assert again.timings.cached_tokens == 0
    assert again.tokens == second.tokens
    # An identical request re-evaluates only its last prompt token.
    repeat = gemma.generate(system + "Question: what color is the sky?", max_tokens=8)
    assert repeat.timings.cached_tokens == repeat.timings.prompt_tokens - 1
    assert repeat.tokens == second.tokens
    assert first.text  # the first one produced something too


def test_stop_strings_cut_before_the_stop(gemma):
    full = gemma.generate(PROMPT, max_tokens=20)
    words = full.text.split()
    assert len(words) >= 3
    stop = words[2]
    cut = gemma.generate(PROMPT, max_tokens=20, stop=[stop])
    assert cut.finish_reason == "stop" and cut.stop_sequence == stop
    assert stop not in cut.text
    assert full.text.startswith(cut.text)


def test_stream_yields_the_same_text_as_generate(gemma):
    expected = gemma.generate(PROMPT, max_tokens=16).text
    stream = gemma.stream(PROMPT, max_tokens=16)
    pieces = list(stream)
    assert len(pieces) > 1
    assert "".join(pieces) == expected == stream.result.text


def test_stream_stops_when_the_consumer_stops(gemma):
    stream = gemma.stream(PROMPT, max_tokens=64, ignore_eos=True)
    for i, _ in enumerate(stream):
        if i == 2:
            break
    assert stream.result.finish_reason == "cancelled"
    assert stream.result.timings.generated_tokens < 64


def test_chat_shows_each_piece_to_on_text_which_can_end_the_decode(qwen):
    messages = [{"role": "user", "content": "Write the words café, naïve and Zürich in a sentence."}]
    pieces = []
    full = qwen.chat(messages, max_tokens=24, on_text=pieces.append)  # None: go on
    assert len(pieces) > 3 and "".join(pieces) == full.text and "\ufffd" not in full.text
    assert full.finish_reason in ("eos", "length")
    seen = []
    cut = qwen.chat(messages, max_tokens=24, on_text=lambda piece: seen.append(piece) or len(seen) < 3)
    assert cut.finish_reason == "cancelled" and cut.timings.generated_tokens <= 3
    assert "".join(seen) == cut.text and len(cut.text) < len(full.text)
    with pytest.raises(InvalidParameterError, match="on_text must be callable"):
        qwen.chat(messages, on_text="print")


def test_seeded_sampling_is_reproducible(gemma):
    opts = dict(max_tokens=16, temperature=1.0, top_k=40, top_p=0.95, min_p=0.05, ignore_eos=True)
    a = gemma.generate(PROMPT, seed=7, **opts)
    b = gemma.generate(PROMPT, seed=7, **opts)
    assert a.tokens == b.tokens
    others = {tuple(gemma.generate(PROMPT, seed=s, **opts).tokens) for s in range(1, 6)}
    assert len(others) > 1  # different seeds really sample differently


def test_token_prompt_and_ignore_eos(gemma):
    tokens = gemma.tokenize(PROMPT)
    out = gemma.generate(tokens, max_tokens=5, ignore_eos=True)
    assert out.timings.prompt_tokens == len(tokens) and len(out.tokens) == 5


@pytest.mark.parametrize("options, name", [
    ({"temprature": 0.5}, "temprature"),
    ({"temperature": -1}, "temperature"),
    ({"top_p": 0}, "top_p"),
    ({"top_p": 1.5}, "top_p"),
    ({"min_p": 1.0}, "min_p"),
    ({"top_k": -1}, "top_k"),
    ({"max_tokens": 0}, "max_tokens"),
    ({"stop": [""]}, "stop"),
    ({"seed": -3}, "seed"),
    ({"stop_repeats": -1}, "stop_repeats"),
])
def test_bad_options_are_refused_by_name(gemma, options, name):
    with pytest.raises(InvalidParameterError, match=name):
        gemma.generate(PROMPT, **options)


def test_a_looping_output_ends_at_stop_repeats(qwen):
    """A list the model fills with one entry ends once a block repeats stop_repeats times
    in a row. What comes before is the output it would have written."""
    grammar = Grammar.from_json_schema({"type": "array", "items": {"type": "integer"}})
    messages = [{"role": "user", "content": "An empty chess board as a flat list of 64 zeros."}]
    free = qwen.chat(messages, grammar=grammar, max_tokens=80)
    assert free.finish_reason == "length" and free.text.count("0") > 20
    cut = qwen.chat(messages, grammar=grammar, max_tokens=80, stop_repeats=6)
    assert cut.finish_reason == "repetition" and free.text.startswith(cut.text)
    assert len(cut.tokens) < len(free.tokens) and 6 <= cut.text.count("0") < 10


def test_prompt_longer_than_context(gemma_path):
    small = Engine(gemma_path, n_ctx=64, n_threads=2)
    assert small.n_ctx >= 64  # llama.cpp may round the window up
    with pytest.raises(ContextOverflowError, match=f"the context holds {small.n_ctx}"):
        small.generate("word " * (small.n_ctx + 10), max_tokens=4)
    # The engine is still usable afterwards.
    assert small.generate(PROMPT, max_tokens=3).tokens


def test_generation_stops_at_a_full_context(gemma_path):
    small = Engine(gemma_path, n_ctx=32, n_threads=2)
    out = small.generate(PROMPT, max_tokens=small.n_ctx + 100, ignore_eos=True)
    assert out.finish_reason == "context"
    assert out.timings.prompt_tokens + out.timings.generated_tokens <= small.n_ctx


def test_bad_token_ids_are_refused(gemma):
    with pytest.raises(InvalidParameterError, match="outside the vocabulary"):
        gemma.generate([1, 2, gemma.n_vocab + 5], max_tokens=2)
    with pytest.raises(InvalidParameterError):
        gemma.generate("", max_tokens=2)


def test_chat_uses_the_models_template(qwen):
    text = qwen.render_chat([{"role": "user", "content": "hi"}])
    assert "<|im_start|>user\nhi<|im_end|>" in text and text.endswith("<|im_start|>assistant\n")
    out = qwen.chat([{"role": "user", "content": "What is the capital of France? One word."}], max_tokens=10)
    assert "paris" in out.text.lower()
    assert out.finish_reason == "eos"  # <|im_end|> ends the turn and is not in the text
    assert "<|im_end|>" not in out.text


def test_chat_prefix_cache_across_turns(qwen):
    system = {"role": "system", "content": "You are a helpful assistant. Answer briefly."}
    qwen.chat([system, {"role": "user", "content": "Name a fruit."}], max_tokens=5)
    out = qwen.chat([system, {"role": "user", "content": "Name a vegetable."}], max_tokens=5)
    assert out.timings.cached_tokens >= 10


def test_logit_bias_steers_and_is_checked(qwen):
    messages = [{"role": "user", "content": "Say one word."}]
    plain = qwen.chat(messages, max_tokens=1)
    target = qwen.tokenize("Banana", add_special=False)[0]
    assert plain.tokens != [target]
    steered = qwen.chat(messages, max_tokens=1, logit_bias={target: 100.0})
    assert steered.tokens == [target]
    with pytest.raises(InvalidParameterError, match="outside the vocabulary"):
        qwen.chat(messages, max_tokens=1, logit_bias={qwen.n_vocab + 1: 1.0})
    with pytest.raises(InvalidParameterError, match="logit_bias"):
        qwen.chat(messages, max_tokens=1, logit_bias={"x": 1.0})


def test_chat_prefix_starts_the_reply(qwen):
    messages = [{"role": "user", "content": "What is the capital of France?"}]
    out = qwen.chat(messages, prefix="The capital of France is", max_tokens=6)
    assert "paris" in out.text.lower() and not out.text.startswith("The capital")
    assert out.timings.prompt_tokens == len(qwen.tokenize(qwen.render_chat(messages), add_special=False,
                                                          parse_special=True)) + len(
        qwen.tokenize("The capital of France is", add_special=False))



def test_gate_reads_the_first_token_off_the_prompt_batch(qwen):
    messages = [{"role": "user", "content": "Say one word."}]
    plain = qwen.chat(messages, max_tokens=4)
    first = plain.tokens[0]
    went = qwen.chat(messages, max_tokens=4, gate_tokens=[first, first + 1])
    assert went.gate_token == first and went.finish_reason == plain.finish_reason
    assert went.text == plain.text and went.tokens == plain.tokens
    stopped = qwen.chat(messages, max_tokens=4, gate_tokens=[first + 1])
    assert stopped.finish_reason == "gated" and stopped.gate_token == first
    assert stopped.text == "" and stopped.tokens == []
    # With a reply prefix the gate reads the token before it; the reply goes on after it.
    prefixed = qwen.chat(messages, prefix="Word:", max_tokens=3, gate_tokens=[first])
    assert prefixed.gate_token == first and prefixed.finish_reason != "gated" and prefixed.tokens
    assert plain.gate_token == -1  # no gate asked
    with pytest.raises(InvalidParameterError, match="gate_tokens"):
        qwen.chat(messages, max_tokens=1, gate_tokens=[qwen.n_vocab])
    with pytest.raises(InvalidParameterError, match="gate_tokens"):
        qwen.chat(messages, max_tokens=1, gate_tokens=[first, "x"])


def test_tokens_starting(qwen):
    ids = qwen.tokens_starting(("{", "["))
    assert ids == qwen.tokens_starting(("{", "["))
    texts = [qwen.native_model.token_bytes(t) for t in ids]
    assert all(b.lstrip().startswith((b"{", b"[")) for b in texts)
    assert qwen.tokenize(" {", add_special=False)[0] in ids and qwen.tokenize("[", add_special=False)[0] in ids
    assert qwen.tokenize("x", add_special=False)[0] not in ids
    with pytest.raises(InvalidParameterError, match="starts"):
        qwen.tokens_starting(("",))
