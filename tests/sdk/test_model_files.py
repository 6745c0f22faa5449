"""Bad model files end in ModelFileError / ModelNotFoundError with a precise message."""

from __future__ import annotations

import pytest

from edgeagent import Engine
from edgeagent.errors import ModelFileError, ModelNotFoundError


def test_missing_file(tmp_path):
    with pytest.raises(ModelNotFoundError, match="not found"):
        Engine(tmp_path / "nope.gguf")


def test_unknown_name():
    with pytest.raises(ModelNotFoundError, match="unknown model 'no-such-model'"):
        Engine("no-such-model")


def test_not_gguf(tmp_path):
    bad = tmp_path / "model.gguf"
    bad.write_bytes(b"PK\x03\x04 this is a zip, not a model" * 10)
    with pytest.raises(ModelFileError, match="not a GGUF file"):
        Engine(bad)


def test_empty_file(tmp_path):
    bad = tmp_path / "empty.gguf"
    bad.write_bytes(b"")
    with pytest.raises(ModelFileError, match="too short"):
        Engine(bad)


def test_directory(tmp_path):
    with pytest.raises(ModelFileError, match="directory"):
        Engine(tmp_path)


@pytest.mark.parametrize("keep", [64, 4096, 1 << 20, 50 << 20])
def test_truncated_gguf(tmp_path, gemma_path, keep):
    bad = tmp_path / "truncated.gguf"
    with open(gemma_path, "rb") as src:
        bad.write_bytes(src.read(keep))
    with pytest.raises(ModelFileError, match="truncated.gguf"):
        Engine(bad)


def test_corrupted_header_counts(tmp_path, gemma_path):
    # A GGUF header that claims an absurd number of tensors.
    data = bytearray(open(gemma_path, "rb").read(1 << 16))
    data[8:16] = (2**62).to_bytes(8, "little")
    bad = tmp_path / "corrupt.gguf"
    bad.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="corrupt.gguf"):
        Engine(bad)
