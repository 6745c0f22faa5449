"""Differential tests: acceptance of the JSON-Schema-Test-Suite instances by edgeagent
(validation mode) vs llguidance and outlines-core, on the schemas all of them compile.
Where edgeagent and a peer disagree, the test fails unless the peer is the one that
contradicts the suite's `valid` flag (peer errors are counted and reported).

Peers (optional; `pip install llguidance outlines-core`, neither pulls torch):
- llguidance: its JSON-Schema compiler with flexible whitespace, on a 256-byte tokenizer;
  an instance is accepted when all its bytes are consumed and the matcher is accepting.
- outlines-core: its JSON-Schema -> regex compiler (whitespace `[ \\t\\n\\r]*`), the regex
  full-matched with Python `re` (outlines_core.Index over a byte vocabulary gives the same
  answers but takes up to minutes per schema with flexible whitespace).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from importlib import metadata

import pytest

from edgeagent import Grammar
from edgeagent.errors import GrammarError

import grammar_walk as gw

SUITE = gw.SUITE_DIR
FILES = sorted(p.name for p in SUITE.glob("*.json")) if SUITE.is_dir() else []
WS = r"[ \t\n\r]*"


class LLGuidancePeer:
    name = "llguidance"

    def __init__(self):
        llg = pytest.importorskip("llguidance")
        from llguidance._tokenizer import TokenizerWrapper

        class ByteTokenizer:  # 256 byte tokens + EOS
            eos_token_id, bos_token_id = 256, None
            tokens = [bytes([i]) for i in range(256)] + [b""]
            special_token_ids = [256]

            def __call__(self, s):
                return list(s.encode() if isinstance(s, str) else s)

        self.llg = llg
        self.tokenizer = llg.LLTokenizer(TokenizerWrapper(ByteTokenizer()))
        self.version = metadata.version("llguidance")

    def compile(self, schema):
        """A function text -> accepted, or None when the peer refuses the schema."""
        if not isinstance(schema, dict):
            schema = {} if schema is True else {"not": {}}
        try:
            grammar = self.llg.LLMatcher.grammar_from_json_schema(schema, defaults={"whitespace_flexible": True})
        except ValueError:
            return None
        matcher = self.llg.LLMatcher(self.tokenizer, grammar, log_level=0)
        if matcher.is_error():
            return None

        def accepts(text: str) -> bool:
            m = matcher.deep_copy()
            data = list(text.encode())
            return m.try_consume_tokens(data) == len(data) and m.is_accepting()
        return accepts


class OutlinesCorePeer:
    name = "outlines-core"

    def __init__(self):
        self.oc = pytest.importorskip("outlines_core")
        self.version = metadata.version("outlines-core")

    def compile(self, schema):
        try:
            rx = re.compile(self.oc.json_schema.build_regex_from_schema(json.dumps(schema), WS))
        except BaseException:  # outlines-core raises pyo3 PanicException (a BaseException) on some inputs
            return None
        return lambda text: rx.fullmatch(text) is not None


PEERS = {"llguidance": LLGuidancePeer, "outlines-core": OutlinesCorePeer}
_peer_cache: dict = {}


@pytest.fixture(scope="module", params=list(PEERS))
def peer(request):
    if request.param not in _peer_cache:
        _peer_cache[request.param] = PEERS[request.param]()
    return _peer_cache[request.param]


@dataclass
class Diff:
    compared_schemas: int = 0
    peer_refused: int = 0
    cases: int = 0
    all_agree: int = 0
    peer_errors: int = 0
    ours_wrong: list = field(default_factory=list)
    peer_error_examples: list = field(default_factory=list)


TOTALS: dict[str, Diff] = {}


@pytest.mark.skipif(not FILES, reason=f"{SUITE} is absent")
@pytest.mark.parametrize("name", FILES)
def test_agreement_with_peer(qwen, peer, name):
    d = Diff()
    for group in json.loads((SUITE / name).read_text()):
        try:
            ours = qwen.matcher(Grammar.from_json_schema(group["schema"], validation=True))
        except GrammarError:
            continue  # refused by name (checked in test_json_schema_suite.py)
        theirs = peer.compile(group["schema"])
        if theirs is None:
            d.peer_refused += 1
            continue
        d.compared_schemas += 1
        for test in group["tests"]:
            text, valid = json.dumps(test["data"]), test["valid"]
            ours.reset()
            e = ours.accept_bytes(text.encode()) and ours.can_terminate()
            p = theirs(text)
            d.cases += 1
            if e == p == valid:
                d.all_agree += 1
            if p != valid:
                d.peer_errors += 1
                if len(d.peer_error_examples) < 2:
                    d.peer_error_examples.append(f"{group['description']}: {text[:40]}")
            if e != p and e != valid:
                d.ours_wrong.append(f"[{group['description']}] {test['description']}: {text[:100]} valid={valid}, "
                                    f"edgeagent={'accepts' if e else 'refuses'}, {peer.name} agrees with the suite")
    t = TOTALS.setdefault(peer.name, Diff())
    for f in ("compared_schemas", "peer_refused", "cases", "all_agree", "peer_errors"):
        setattr(t, f, getattr(t, f) + getattr(d, f))
    t.ours_wrong += d.ours_wrong
    if d.cases or d.peer_refused:
        gw.REPORT.append(f"differential {peer.name} {peer.version} {name:30s} {d.compared_schemas:2d} schemas compared "
                         f"({d.peer_refused} refused by the peer), {d.cases} instances, {d.peer_errors} peer errors"
                         + (f" e.g. {d.peer_error_examples[0]}" if d.peer_error_examples else ""))
    assert not d.ours_wrong, "\n".join(d.ours_wrong)


@pytest.mark.skipif(not FILES, reason=f"{SUITE} is absent")
def test_differential_totals(peer):
    t = TOTALS.get(peer.name)
    if t is None:
        pytest.skip("no differential test ran in this session")
    gw.REPORT.append(f"differential {peer.name} {peer.version} TOTAL: {t.compared_schemas} schemas compared, "
                     f"{t.peer_refused} refused by the peer; {t.cases} instances, {t.all_agree} all three agree with "
                     f"'valid', {t.peer_errors} peer errors, {len(t.ours_wrong)} edgeagent errors")
    assert not t.ours_wrong
