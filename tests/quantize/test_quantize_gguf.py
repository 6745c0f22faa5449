"""End to end on real weights: Gemma-3-270M GGUF → HF → GGUF q8_0 / q4_k_m, verified,
then run by the engine."""

from __future__ import annotations

import json
import math

import pytest

from edgeagent import Engine
from edgeagent.quantize import quantize

PROMPT = "The capital of France is"


def test_q8_0_is_verified_and_runs(gemma_q8, gemma_hf):
    v = gemma_q8.verification
    assert gemma_q8.format == "gguf" and gemma_q8.type == "q8_0"
    assert v.n_tokens >= 64
    assert v.top1_agreement >= 0.9
    assert 0.0 <= v.kl_divergence < 0.05
    assert math.isfinite(v.perplexity) and v.perplexity < 3 * v.source_perplexity
    assert 0 < v.size_bytes < v.source_size_bytes / 3  # 8.5 bits per weight vs float32
    assert v.decode_tok_s > 0 and v.load_s > 0
    assert v.function_calling == {"skipped": "disabled"}
    names = [s["name"] for s in gemma_q8.steps]
    assert names[0].startswith("convert") and any(n.startswith("quantize") for n in names)
    engine = Engine(gemma_q8.output, n_ctx=256, n_threads=2)
    assert "Q8_0" in engine.describe()["description"]
    out = engine.generate(PROMPT, max_tokens=8)
    assert out.finish_reason in ("length", "eos") and out.text.strip()


def test_cli_q4_k_m_with_imatrix_plot_and_report(gemma_hf, gemma_q8, outputs, cli):
    target, plot, report = outputs / "gemma-q4_k_m.gguf", outputs / "q4.png", outputs / "q4.json"
    r = cli("quantize", str(gemma_hf), "--to", "gguf", "--type", "q4_k_m", "--out", str(target), "--plot", str(plot),
            "--report", str(report), "--fc-items", "0", "--threads", "2", "--imatrix", "default", "--json", timeout=900)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data == json.loads(report.read_text())
    v = data["verification"]
    assert data["imatrix"] is True and any(s["name"] == "importance matrix" for s in data["steps"])
    assert data["output"] == str(target) and target.is_file()
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # q4_k_m is smaller than q8_0 and (measurably) further from the source.
    assert v["size_bytes"] < gemma_q8.verification.size_bytes
    assert v["top1_agreement"] >= 0.85
    assert v["kl_divergence"] > gemma_q8.verification.kl_divergence
    assert not [p for p in outputs.iterdir() if p.name.startswith(".")]  # no temporaries left
    out = Engine(target, n_ctx=256, n_threads=2).generate(PROMPT, max_tokens=8)
    assert out.text.strip()


def test_existing_output_is_refused_before_any_work(gemma_hf, gemma_q8):
    from edgeagent.errors import QuantizeInputError

    with pytest.raises(QuantizeInputError, match="already exists"):
        quantize(gemma_hf, to="gguf", type="q8_0", out=gemma_q8.output)


def test_bf16_is_verified_closer_than_q8_0_and_runs(gemma_hf, gemma_q8, outputs):
    result = quantize(gemma_hf, to="gguf", type="bf16", out=outputs / "gemma-bf16.gguf", fc_items=0, n_threads=2)
    v = result.verification
    assert result.type == "bf16" and v.top1_agreement >= 0.95
    assert v.kl_divergence < gemma_q8.verification.kl_divergence  # 16 bits hold the f32 source closer than 8.5
    assert gemma_q8.verification.size_bytes < v.size_bytes < v.source_size_bytes
    engine = Engine(result.output, n_ctx=256, n_threads=2)
    assert "BF16" in engine.describe()["description"]
    assert engine.generate(PROMPT, max_tokens=8).text.strip()
