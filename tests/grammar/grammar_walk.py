"""Helpers for the grammar tests: fast random walks through a matcher's token mask.

A walk starts from a fresh matcher, and at each step takes the allowed-token bitmask,
samples one allowed token (vectorised: popcount per word, cumulative sum, pick), and
accepts it, until an end-of-generation token is accepted or a step cap is reached.
Sampling is uniform over the allowed tokens, with two biases so that walks finish:
end when an EOS token is allowed (probability `p_end`), and sometimes (probability
`p_close`) pick among tokens that contain a closing byte (`"`, `]`, `}`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np

REPO = Path(__file__).resolve().parents[2]
SUITE_DIR = REPO.parent / "shared" / "bench" / "json-schema-test-suite" / "draft2020-12"

CLOSERS = (b'"', b"]", b"}")

# Lines printed in the terminal summary of a run (see conftest.py).
REPORT: list[str] = []


def words_of(token_ids, n_words: int) -> np.ndarray:
    """A bitmask (uint32 words) with the given token ids set."""
    w = np.zeros(n_words, dtype=np.uint32)
    ids = np.asarray(list(token_ids), dtype=np.int64)
    if ids.size:
        np.bitwise_or.at(w, ids >> 5, (np.uint32(1) << (ids & 31).astype(np.uint32)))
    return w


def mask_tokens(mask: np.ndarray) -> np.ndarray:
    """All token ids whose bit is set in `mask` (sorted)."""
    nz = np.flatnonzero(mask)
    if nz.size == 0:
        return nz
    bits = np.unpackbits(np.ascontiguousarray(mask[nz]).view(np.uint8), bitorder="little")
    idx = np.flatnonzero(bits)
    return nz[idx >> 5] * 32 + (idx & 31)


def bit_set(mask: np.ndarray, token: int) -> bool:
    return bool((int(mask[token >> 5]) >> (token & 31)) & 1)


def sample_bit(mask: np.ndarray, rng: np.random.Generator) -> int:
    """A uniformly random set bit of `mask`, or -1 when none is set."""
    counts = np.bitwise_count(mask)
    cum = np.cumsum(counts, dtype=np.int64)
    total = int(cum[-1]) if cum.size else 0
    if total == 0:
        return -1
    r = int(rng.integers(total))
    w = int(np.searchsorted(cum, r, side="right"))
    k = r - (int(cum[w - 1]) if w else 0)
    word = int(mask[w])
    for b in range(32):  # the k-th set bit of this word
        if (word >> b) & 1:
            if k == 0:
                return w * 32 + b
            k -= 1
    raise AssertionError("unreachable")


class Vocab:
    """Per-model facts the walks need, computed once."""

    def __init__(self, engine):
        model = engine.native_model
        self.n = engine.n_vocab
        self.token_bytes = [model.token_bytes(t) for t in range(self.n)]
        self.eog = [t for t in range(self.n) if model.is_end_of_generation(t)]
        self.eog_set = frozenset(self.eog)
        self.n_words = (self.n + 31) // 32
        self.eog_words = words_of(self.eog, self.n_words)
        self.not_eog_words = ~self.eog_words
        self.closer_words = words_of((t for t, b in enumerate(self.token_bytes)
                                      if t not in self.eog_set and any(c in b for c in CLOSERS)), self.n_words)
        self.empty_tokens = frozenset(t for t, b in enumerate(self.token_bytes) if not b and t not in self.eog_set)


@dataclass
class WalkStats:
    walks: int = 0
    finished: int = 0
    unfinished: int = 0
    steps: int = 0
    token_checks: int = 0
    refusal_checks: int = 0
    rollback_checks: int = 0
    failures: list = field(default_factory=list)


class WalkError(AssertionError):
    pass


def _check_step(matcher, vocab: Vocab, mask: np.ndarray, rng: np.random.Generator, stats: WalkStats,
                n_allowed: int, n_refused: int) -> None:
    """Every sampled allowed token is accepted (then rolled back with the mask unchanged);
    sampled disallowed tokens are refused with the state unchanged."""
    allowed = mask_tokens(mask)
    if allowed.size > n_allowed:
        allowed = rng.choice(allowed, size=n_allowed, replace=False)
    for t in allowed.tolist():
        if not matcher.accept_token(t):
            raise WalkError(f"token {t} {vocab.token_bytes[t]!r} is allowed by the mask but accept_token refused it")
        stats.token_checks += 1
        matcher.rollback(1)
    again = matcher.fill_next_token_bitmask()
    if not np.array_equal(again, mask):
        raise WalkError("accept_token + rollback(1) changed the mask")
    refused = 0
    for _ in range(n_refused * 4):
        if refused >= n_refused:
            break
        t = int(rng.integers(vocab.n))
        if bit_set(mask, t):
            continue
        if matcher.accept_token(t):
            raise WalkError(f"token {t} {vocab.token_bytes[t]!r} is not in the mask but accept_token accepted it")
        refused += 1
        stats.refusal_checks += 1
    if refused and not np.array_equal(matcher.fill_next_token_bitmask(), mask):
        raise WalkError("a refused token changed the matcher state")
    # Jump-forward: forced bytes are accepted, every allowed token agrees with them, and
    # nothing is forced where the grammar could end.
    forced = matcher.find_jump_forward_bytes()
    if forced:
        if matcher.can_terminate():
            raise WalkError(f"jump-forward bytes {forced!r} where the grammar can end")
        for t in allowed.tolist():
            b = vocab.token_bytes[t]
            if not (b.startswith(forced) or forced.startswith(b)):
                raise WalkError(f"jump-forward bytes {forced!r} but the mask allows token {t} {b!r}")
        if not matcher.accept_bytes(forced):
            raise WalkError(f"jump-forward bytes {forced!r} refused by accept_bytes")
        matcher.rollback(1)
        if not np.array_equal(matcher.fill_next_token_bitmask(), mask):
            raise WalkError("accept_bytes + rollback(1) changed the mask")


def walk(matcher, vocab: Vocab, rng: np.random.Generator, stats: WalkStats, *, max_steps: int = 256,
         p_end: float = 0.6, p_close: float = 0.2, check_tokens: int = 0, check_refused: int = 0) -> Optional[bytes]:
    """One random walk from a fresh state. Returns the generated bytes when an EOS token
    was accepted, None when the step cap was reached first. Raises WalkError on any
    inconsistency of the matcher."""
    matcher.reset()
    out = []
    history = []  # masks seen, when checking (for the rollback check at the end)
    stats.walks += 1
    for _ in range(max_steps):
        mask = matcher.fill_next_token_bitmask()
        stats.steps += 1
        if check_tokens:
            history.append(mask)
        if mask.shape[0] < vocab.n_words:
            raise WalkError(f"mask has {mask.shape[0]} words for a vocabulary of {vocab.n}")
        if check_tokens or check_refused:
            _check_step(matcher, vocab, mask, rng, stats, check_tokens, check_refused)
        eos_ok = mask & vocab.eog_words
        if bool(eos_ok.any()) != matcher.can_terminate():
            raise WalkError(f"EOS allowed by the mask = {bool(eos_ok.any())} but can_terminate() = "
                            f"{matcher.can_terminate()} after {b''.join(out)!r}")
        rest = mask & vocab.not_eog_words
        if matcher.must_terminate() and (rest.any() or not eos_ok.any()):
            raise WalkError(f"must_terminate() but the mask allows more than EOS, after {b''.join(out)!r}")
        if eos_ok.any() and (rng.random() < p_end or not rest.any()):
            tok = sample_bit(eos_ok, rng)
        else:
            tok = -1
            if rng.random() < p_close:
                tok = sample_bit(rest & vocab.closer_words, rng)
            if tok < 0:
                tok = sample_bit(rest, rng)
            if tok < 0:
                raise WalkError(f"dead end: nothing allowed and the grammar cannot end, after {b''.join(out)!r}")
        if tok in vocab.empty_tokens:
            raise WalkError(f"the mask allows token {tok}, which has no bytes")
        if not matcher.accept_token(tok):
            raise WalkError(f"accept_token refused token {tok} {vocab.token_bytes[tok]!r} that the mask allows, "
                            f"after {b''.join(out)!r}")
        if tok in vocab.eog_set:
            if not matcher.is_terminated():
                raise WalkError("EOS accepted but is_terminated() is false")
            if matcher.fill_next_token_bitmask().any():
                raise WalkError("tokens allowed after termination")
            if history:  # rollback(k) from the end restores the mask seen k steps back
                k = int(rng.integers(1, len(history) + 1))
                matcher.rollback(k)
                if matcher.is_terminated() or not np.array_equal(matcher.fill_next_token_bitmask(), history[-k]):
                    raise WalkError(f"rollback({k}) after {len(history)} tokens did not restore the state")
                stats.rollback_checks += 1
            stats.finished += 1
            return b"".join(out)
        out.append(vocab.token_bytes[tok])
    stats.unfinished += 1
    return None


def decode_json(data: bytes):
    """Strict: valid UTF-8, then strict JSON (no control characters in strings, no NaN)."""
    text = data.decode("utf-8")

    def no_constant(name):
        raise ValueError(f"non-standard JSON constant {name}")

    return json.loads(text, parse_constant=no_constant)
