"""Fixtures for the export/quantize tests: real HF weights from the bundled Gemma GGUF,
and the outputs of the real pipeline (each built once per session).

The dequantized HF directory is cached in $EDGEAGENT_HOME/test-data (it takes a couple
of minutes to build, mostly transformers rebuilding a 262k-token tokenizer), the
quantized outputs live in the session's tmp dir.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from edgeagent import models
from edgeagent.quantize import hf_from_gguf, quantize

GEMMA = "gemma-3-270m-q4_k_m"


@pytest.fixture(scope="session")
def gemma_hf() -> Path:
    """Gemma-3-270M as a Hugging Face directory (float32 safetensors + tokenizer)."""
    target = models.home() / "test-data" / "gemma-3-270m-hf"
    if not (target / "config.json").is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        hf_from_gguf(models.resolve(GEMMA), target)
    return target


@pytest.fixture(scope="session")
def outputs(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("quantized")


@pytest.fixture(scope="session")
def gemma_q8(gemma_hf, outputs):
    return quantize(gemma_hf, to="gguf", type="q8_0", out=outputs / "gemma-q8_0.gguf", n_threads=2, fc_items=0)


@pytest.fixture(scope="session")
def gemma_onnx_int8(gemma_hf, outputs):
    return quantize(gemma_hf, to="onnx", type="int8", out=outputs / "gemma-onnx-int8", n_threads=2, fc_items=0)
