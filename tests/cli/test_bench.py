"""`edgeagent bench decode` runs end to end and reports both engines (no timing asserts)."""

from __future__ import annotations

import json



def test_bench_decode_reports_both_engines_and_a_ratio(cli, gemma_path):
    r = cli("bench", "decode", "--model", "gemma-3-270m-q4_k_m", "--max-tokens", "8", "--repeats", "1",
                  "--json", timeout=600)
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["bench"] == "decode" and report["threads"] == 2
    (entry,) = report["models"]
    for engine in ("edgeagent", "llama_cpp_python"):
        assert entry[engine]["tokens"] >= 2 and entry[engine]["decode_tok_s"] > 0
    assert entry["ratio"] > 0 and len(entry["paired_ratios"]) == 1


def test_bench_rejects_bad_settings(cli):
    r = cli("bench", "decode", "--repeats", "0")
    assert r.returncode == 2 and "--repeats" in r.stderr
