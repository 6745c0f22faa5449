"""The CLI as a user runs it: real subprocesses, real models, exit codes, no tracebacks."""

from __future__ import annotations

import json

import pytest


def test_help_lists_every_verb(cli):
    r = cli("--help")
    assert r.returncode == 0
    for verb in ("run", "models", "bench"):
        assert verb in r.stdout


def test_run_json_has_text_and_timings(cli, gemma_path):
    r = cli("run", "gemma-3-270m-q4_k_m", "The capital of France is", "-n", "8", "--json", "--n-ctx", "256")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["mode"] == "raw"  # a base model without a chat template
    assert data["text"] and data["timings"]["generated_tokens"] == 8
    assert data["timings"]["decode_tok_s"] > 0


def test_run_streams_text(cli, qwen_path):
    r = cli("run", "Say the word 'banana' and nothing else.", "-n", "10", "--n-ctx", "512")
    assert r.returncode == 0, r.stderr
    assert "banana" in r.stdout.lower()
    assert "decode" in r.stderr and "tok/s" in r.stderr


def test_models_list_json(cli, qwen_path, gemma_path):
    r = cli("models", "list", "--json")
    assert r.returncode == 0
    names = {m["name"]: m for m in json.loads(r.stdout)}
    assert names["qwen2.5-coder-0.5b-instruct-q4_k_m"]["pulled"]


def test_models_pull_makes_the_bf16_copy_after_its_source(cli, qwen_path):
    from edgeagent import models

    r = cli("models", "pull", models.BF16_MODEL)
    assert r.returncode == 0, r.stderr
    source, copy = r.stdout.strip().splitlines()
    assert source.startswith(f"{models.DEFAULT_MODEL}: ") and copy.startswith(f"{models.BF16_MODEL}: ")
    assert copy.endswith("(sha256 verified)")
    r = cli("run", models.BF16_MODEL, "Say the word 'banana' and nothing else.", "-n", "10", "--n-ctx", "512")
    assert r.returncode == 0 and "banana" in r.stdout.lower(), r.stderr


@pytest.mark.parametrize("args, message", [
    (["run", "no-such-model", "hi"], "unknown model 'no-such-model'"),
    (["run", "/tmp/definitely/missing.gguf", "hi"], "not found"),
    (["run", "gemma-3-270m-q4_k_m", "hi", "--temperature", "-1"], "temperature"),
    (["run", "gemma-3-270m-q4_k_m", "hi", "--top-p", "2"], "top_p"),
    (["run", "gemma-3-270m-q4_k_m", "word " * 600, "--n-ctx", "64"], "context"),
    (["models", "pull", "no-such-model"], "unknown model"),
    (["run", "a", "b", "c"], "at most two arguments"),
])
def test_bad_input_exits_2_with_a_clear_message(cli, args, message, gemma_path):
    r = cli(*args)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert message in r.stderr
    assert "Traceback" not in r.stderr


def test_unknown_option_exits_2(cli):
    r = cli("run", "hi", "--temprature", "0.5")
    assert r.returncode == 2 and "No such option" in r.stderr


def test_corrupt_model_file_exits_2(cli, tmp_path, gemma_path):
    bad = tmp_path / "cut.gguf"
    bad.write_bytes(gemma_path.read_bytes()[: 2 << 20])
    r = cli("run", str(bad), "hi")
    assert r.returncode == 2 and "cut.gguf" in r.stderr and "Traceback" not in r.stderr
