"""The CLI verbs of the assistant part: bad input exits 2 with one line; toolrag eval prints JSON."""

from __future__ import annotations

import json

import pytest


@pytest.mark.parametrize("args, message", [
    (["chat", "--strategy", "guess"], "--strategy"),
    (["chat", "--policy", "/nonexistent/policy.ltl"], "--policy"),
    (["chat", "--top-k", "0"], "--top-k"),
    (["eval", "assistant", "--strategy", "fast"], "--strategy"),
    (["eval", "assistant", "--split", "train"], "--split"),
    (["eval", "assistant", "--limit", "0"], "--limit"),
    (["eval", "injection", "--policy", "/nonexistent.ltl"], "--policy"),
    (["eval", "toolrag", "--k", "a,b"], "--k"),
])
def test_bad_input_exits_2_with_one_line(cli, args, message):
    r = cli(*args)
    assert r.returncode == 2, r.stderr
    assert message in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_eval_toolrag_json(cli, tmp_path):
    # No distractor folder: the 26 local tools alone, BM25 (fast and always there).
    r = cli("eval", "toolrag", "--json", "--backend", "bm25", "--k", "3,6", "--distractors", str(tmp_path))
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["library"] == 26 and report["queries"] >= 60
    recall = report["backends"]["bm25"]["recall"]
    assert 0.0 < recall["3"] <= recall["6"] <= 1.0
