"""The C API, used the way a C embedder would: compile apps/c_embed against the install."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

import edgeagent

REPO = Path(__file__).resolve().parents[2]
PKG = Path(edgeagent.__file__).parent


@pytest.fixture(scope="module")
def c_embed(tmp_path_factory) -> Path:
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler")
    exe = tmp_path_factory.mktemp("c") / "c_embed"
    subprocess.run([cc, "-std=c99", "-Wall", "-Werror", str(REPO / "apps/c_embed/main.c"), f"-I{PKG / 'include'}",
                    f"-L{PKG / 'lib'}", "-ledgeagent", f"-Wl,-rpath,{PKG / 'lib'}", "-o", str(exe)], check=True)
    return exe


def test_generates_from_c(c_embed, gemma_path, gemma):
    r = subprocess.run([str(c_embed), str(gemma_path), "The three primary colors are", "12"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    # Same greedy continuation as the Python API (the C API adds BOS like tokenize() does),
    # both from an empty prefix cache: a prompt prefilled after a cached prefix is computed
    # in other batch shapes, which may flip a greedy token.
    gemma.reset()
    assert r.stdout == gemma.generate("The three primary colors are", max_tokens=12).text
    assert "[length] " in r.stderr and "12 generated" in r.stderr


def test_errors_come_back_as_status_and_message(c_embed, tmp_path):
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"nope" * 10)
    r = subprocess.run([str(c_embed), str(bad), "hi"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    assert "not a GGUF file" in r.stderr and str(bad) in r.stderr


def test_a_prefill_model_from_c(c_embed, gemma_path, qwen_path):
    # The model's own file as its prefill model: the same text as without it.
    prompt = "The three primary colors are red, yellow and blue. The three secondary colors are"
    run = lambda *extra: subprocess.run([str(c_embed), str(gemma_path), prompt, "8", *extra],
                                        capture_output=True, text=True, timeout=120)
    alone, paired = run(), run(str(gemma_path))
    assert alone.returncode == paired.returncode == 0, paired.stderr
    assert paired.stdout == alone.stdout and paired.stdout.strip()
    other = run(str(qwen_path))
    assert other.returncode == 2 and "is not a copy of" in other.stderr
