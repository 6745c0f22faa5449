"""`edgeagent bench quantize`: the export pipeline on a real 0.5B model.

The source is a bundled GGUF dequantized to HF weights (transformers, cached in
$EDGEAGENT_HOME/bench-data). Each output goes through the whole `edgeagent.quantize`
path (HF → converter → quantize → verify); per step we record wall time and peak
resident memory (this process and the converter child). The quality table compares
every output with the HF source; q4_k_m is also compared with the f16 GGUF, and ONNX
int8 decode speed is reported beside GGUF q4_k_m.
"""

from __future__ import annotations

import json
import platform
import time
from pathlib import Path
from typing import Any, Callable, Optional

from .. import models
from ..quantize import hf_from_gguf, plot_reports, quantize
from ..quantize.atomic import scratch_dir
from ..quantize.verify import compare_logits, held_text

__all__ = ["run_quantize_bench"]

GGUF_TYPES = ("f16", "q8_0", "q4_k_m")


def _source_dir(model: str, progress: Callable[[str], None]) -> tuple[Path, float]:
    target = models.home() / "bench-data" / f"{model}-hf"
    if (target / "config.json").is_file():
        return target, 0.0
    progress(f"dequantizing {model} to HF weights (once; cached in {target.parent})")
    target.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    hf_from_gguf(models.resolve(model), target)
    return target, time.perf_counter() - t0


def _agreement_vs(ref_gguf: str, gguf: str, threads: int) -> dict[str, float]:
    from ..engine import Engine

    ref = Engine(ref_gguf, n_ctx=512, n_threads=threads)
    tokens = ref.tokenize(held_text())[:192]
    ref_logits = ref._session.all_logits(tokens)
    del ref
    cand = Engine(gguf, n_ctx=512, n_threads=threads)
    return compare_logits(ref_logits, cand._session.all_logits(tokens), tokens)


def run_quantize_bench(model: str, *, threads: int = 2, fc_items: int = 10, onnx: bool = True,
                       plot: Optional[Path] = None, output: Optional[Path] = None,
                       progress: Callable[[str], None] = lambda m: None) -> dict[str, Any]:
    source, dequant_s = _source_dir(model, progress)
    results: list[dict[str, Any]] = []
    with scratch_dir(source.parent) as work:
        plan = [("gguf", t) for t in GGUF_TYPES] + ([("onnx", "int8")] if onnx else [])
        for to, qtype in plan:
            progress(f"{to} {qtype}: export + verify")
            out = work / (f"{qtype}.gguf" if to == "gguf" else f"onnx-{qtype}")
            t0 = time.perf_counter()
            r = quantize(source, to=to, type=qtype, out=out, n_threads=threads, fc_items=fc_items)
            d = r.to_dict()
            d["total_s"] = round(time.perf_counter() - t0, 2)
            d["export_s"] = round(sum(s["seconds"] for s in r.steps if not s["name"].startswith("verify")), 2)
            results.append(d)
        by = {(r["format"], r["type"]): r for r in results}
        q4 = by[("gguf", "q4_k_m")]
        q4["vs_f16"] = _agreement_vs(by[("gguf", "f16")]["output"], q4["output"], threads)
    report = {
        "bench": "quantize",
        "model": model,
        "source": str(source),
        "dequantize_s": round(dequant_s, 2),
        "threads": threads,
        "fc_items": fc_items,
        "machine": {"cpu_count": __import__("os").cpu_count(), "platform": platform.platform()},
        "outputs": results,
        "summary": {
            "hf_to_q4_k_m_s": q4["export_s"],
            "q4_k_m_top1_vs_f16": round(q4["vs_f16"]["top1_agreement"], 4),
            "q4_k_m_top1_vs_source": q4["verification"]["top1_agreement"],
            "q4_k_m_decode_tok_s": q4["verification"]["decode_tok_s"],
            **({"onnx_int8_decode_tok_s": by[("onnx", "int8")]["verification"]["decode_tok_s"]} if onnx else {}),
        },
    }
    if plot is not None:
        plot_reports(results, plot)
    if output is not None:
        Path(output).write_text(json.dumps(report, indent=2) + "\n")
    return report
