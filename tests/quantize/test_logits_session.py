"""The native sampler over caller-provided logits (the ONNX backend's path): greedy is
argmax, masks hold, buffers are read in place, bad buffers are refused."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgeagent import Grammar, _core
from edgeagent.errors import InvalidParameterError


@pytest.fixture(scope="module")
def vocab(gemma_path):
    params = _core.ModelParams()
    params.vocab_only = True
    return _core.Model.load(str(gemma_path), params)


def _params(max_tokens=4, **sampling):
    p = _core.GenerateParams()
    p.max_tokens = max_tokens
    s = p.sampling
    for k, v in sampling.items():
        setattr(s, k, v)
    p.sampling = s
    return p


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_greedy_picks_the_argmax(vocab, seed):
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal(vocab.n_vocab).astype(np.float32)
    eog = [t for t in range(vocab.n_vocab) if vocab.is_end_of_generation(t)]
    logits[eog] = -1e9
    session = _core.LogitsSession(vocab, _params(), 3)
    assert session.step(logits) == int(np.argmax(logits))


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), temperature=st.floats(0.1, 2.0))
def test_grammar_mask_holds_under_sampling(vocab, seed, temperature):
    grammar = _core.grammar_from_regex(" (yes|no)")
    matcher = _core.GrammarMatcher(_core.compile_grammar(vocab, grammar))
    session = _core.LogitsSession(vocab, _params(max_tokens=8, temperature=temperature, seed=seed), 3, matcher)
    rng = np.random.default_rng(seed)
    while not session.done:
        if session.step(rng.standard_normal(vocab.n_vocab).astype(np.float32) * 5) < 0:
            break
    result = session.finish()
    assert result.text.decode() in (" yes", " no") and result.finish_reason == "eos"


def test_logits_are_read_in_place_from_a_3d_batch(vocab):
    batch = np.zeros((1, 3, vocab.n_vocab), dtype=np.float32)
    batch[0, -1, 1234] = 10.0  # only the last row counts
    batch[0, 0, 999] = 50.0
    assert _core.LogitsSession(vocab, _params(), 3).step(batch) == 1234


def test_repeat_penalty_modifies_the_callers_buffer(vocab):
    logits = np.zeros(vocab.n_vocab, dtype=np.float32)
    logits[500] = 4.0
    session = _core.LogitsSession(vocab, _params(repeat_penalty=2.0), 3)
    assert session.step(logits) == 500
    logits2 = logits.copy()
    session.step(logits2)
    assert logits2[500] == pytest.approx(2.0)  # penalized in place: no copy was made


@pytest.mark.parametrize("bad", [np.zeros(10, dtype=np.float32), np.zeros(262144, dtype=np.float64),
                                 np.zeros((262144, 2), dtype=np.float32)[:, 0]])
def test_bad_buffers_are_refused(vocab, bad):
    with pytest.raises(InvalidParameterError):
        _core.LogitsSession(vocab, _params(), 3).step(bad)


def test_stop_strings_and_length(vocab):
    hello = vocab.tokenize(" hello world", False, False)
    p = _core.GenerateParams()
    p.max_tokens = 10
    p.stop = [" world"]
    session = _core.LogitsSession(vocab, p, 3)
    for t in hello:
        logits = np.zeros(vocab.n_vocab, dtype=np.float32)
        logits[t] = 1.0
        if session.step(logits) < 0:
            break
    r = session.finish()
    assert r.finish_reason == "stop" and r.text == b" hello" and r.stop_sequence == " world"
    assert session.take_text() == b" hello"  # once done: everything not yet taken


def test_vocab_only_model_has_no_session(vocab):
    with pytest.raises(InvalidParameterError, match="vocabulary-only"):
        _core.Session(vocab, _core.SessionParams())


def test_grammar_from_python_api_on_vocab_only_model(vocab):
    g = Grammar.from_regex("[0-9]{3}")
    matcher = _core.GrammarMatcher(_core.compile_grammar(vocab, g._native))
    assert matcher.vocab_size == vocab.n_vocab


@given(block=st.lists(st.integers(1000, 2000), min_size=1, max_size=4), times=st.integers(2, 6))
@settings(max_examples=20, deadline=None)
def test_stop_repeats_ends_a_loop_where_the_block_repeats_that_often(vocab, block, times):
    """The ONNX path stops as the llama.cpp one does: once the output ends with a block
    of 1-16 tokens written stop_repeats times in a row, not a token before."""
    p = _params(max_tokens=64)
    p.stop_repeats = times
    session = _core.LogitsSession(vocab, p, 3)
    fed = 0
    while not session.done:
        logits = np.zeros(vocab.n_vocab, dtype=np.float32)
        logits[block[fed % len(block)]] = 1.0
        if session.step(logits) < 0:
            break
        fed += 1
    result = session.finish()
    assert result.finish_reason == "repetition"
    out = list(result.tokens)
    assert len(out) <= len(block) * times and out == [block[i % len(block)] for i in range(len(out))]

    def repeats(seq):
        return any(len(seq) >= n * times and seq[-n * times:] == seq[-n:] * times for n in range(1, 17))
    assert repeats(out) and not any(repeats(out[:k]) for k in range(len(out)))
