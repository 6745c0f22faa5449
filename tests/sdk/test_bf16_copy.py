"""The BF16 copy of the default model is the same model as its Q4_K_M file: its
matrices re-encoded, the rest copied, the same calls on real BFCL dev requests."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgeagent import Agent, models
from edgeagent.bench.bfcl import load_category

DEV_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "bench" / "bfcl-dev"


@pytest.fixture(scope="module")
def bf16_path() -> Path:
    return models.resolve(models.BF16_MODEL)


def test_the_copy_keeps_the_output_and_embeddings_and_carries_the_matrices_as_bf16(bf16_path, qwen_path):
    import gguf

    source = {t.name: t for t in gguf.GGUFReader(qwen_path).tensors}
    for t in gguf.GGUFReader(bf16_path).tensors:
        if t.name in ("output.weight", "token_embd.weight"):
            assert t.tensor_type == source[t.name].tensor_type and bytes(t.data) == bytes(source[t.name].data)
        elif t.tensor_type.name != "F32":
            assert t.tensor_type.name == "BF16", t.name


@pytest.mark.skipif(not DEV_DIR.is_dir(), reason=f"BFCL dev data not found at {DEV_DIR}")
@pytest.mark.parametrize("category,count", [("simple_python", 8), ("parallel", 4), ("irrelevance", 4)])
def test_the_copy_makes_the_calls_of_its_source(bf16_path, qwen, category, count):
    copy = Agent(bf16_path, n_ctx=2048, n_threads=2)
    source = Agent(engine=qwen)
    for item in load_category(DEV_DIR, category)[:count]:
        calls = [[c.to_dict() for c in agent.call(item.messages, item.tools).calls] for agent in (source, copy)]
        assert calls[0] == calls[1], item.id

