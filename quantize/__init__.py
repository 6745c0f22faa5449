"""Export and quantize: a fine-tuned HF model (optionally + LoRA) → GGUF or ONNX,
verified against its source.

    import edgeagent
    result = edgeagent.quantize("my-model/", to="gguf", type="q4_k_m")
    print(result.output, result.verification.top1_agreement)

    edgeagent.quantize("my-model/", to="onnx", type="int8", lora="my-lora/")

GGUF: llama.cpp's converter (from the pinned llama-cpp-python sdist) writes f16, our
native core quantizes with llama_model_quantize. ONNX: optimum exports with a KV cache,
onnxruntime quantizes. Outputs are written atomically.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Union

from ..errors import QuantizeInputError
from .atomic import atomic_file, scratch_dir
from .converter import convert_lora_to_gguf
from .gguf_export import GGUF_TYPES, export_gguf
from .hf_from_gguf import hf_from_gguf
from .hf_source import check_adapter, inspect_source, merge_lora
from .onnx_export import ONNX_TYPES, export_onnx
from .report import plot_reports, quality_table, steps_table
from .steps import Steps
from .verify import Verification, calibration_text, verify

__all__ = ["quantize", "QuantizeResult", "Verification", "GGUF_TYPES", "ONNX_TYPES", "hf_from_gguf",
           "convert_adapter", "verify", "quality_table", "steps_table", "plot_reports", "write_report", "FORMATS"]

FORMATS = {"gguf": GGUF_TYPES, "onnx": ONNX_TYPES}


@dataclass
class QuantizeResult:
    source: str
    output: str
    format: str
    type: str
    lora: Optional[str]
    size_bytes: int
    steps: list[dict[str, Any]] = field(default_factory=list)
    verification: Optional[Verification] = None
    imatrix: bool = False

    def to_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in self.__dict__.items() if k != "verification"}
        d["verification"] = self.verification.to_dict() if self.verification else None
        return d


def _default_out(src: Path, to: str, qtype: str, lora: Optional[Path]) -> Path:
    stem = src.name + (f"+{lora.name}" if lora else "")
    return src.parent / (f"{stem}-{qtype}.gguf" if to == "gguf" else f"{stem}-onnx-{qtype}")


def quantize(src: Union[str, os.PathLike[str]], *, to: str = "gguf", type: str = "q4_k_m",
             lora: Union[str, os.PathLike[str], None] = None, out: Union[str, os.PathLike[str], None] = None,
             verify_output: bool = True, plot: Union[str, os.PathLike[str], None] = None,
             imatrix: Union[bool, str, os.PathLike[str]] = False, progress: bool = False,
             n_threads: Optional[int] = None, fc_items: int = 5, bfcl_dir: Optional[Path] = None) -> QuantizeResult:
    """Exports the HF model directory `src` (with the PEFT LoRA `lora` merged first) to
    `to` ("gguf" or "onnx") quantized as `type`, writes it to `out` atomically, and
    (by default) verifies it against `src`. `imatrix`: True for the bundled calibration
    text, or a path to a text file (GGUF only). `plot`: a PNG of size vs quality."""
    if to not in FORMATS:
        raise QuantizeInputError(f"--to must be gguf or onnx, got {to!r}")
    if type not in FORMATS[to]:
        raise QuantizeInputError(f"unknown {to} quantization type '{type}' (supported: {', '.join(FORMATS[to])})")
    if imatrix and to != "gguf":
        raise QuantizeInputError("an importance matrix applies to GGUF quantization only")
    if imatrix and type in ("f16", "bf16"):
        raise QuantizeInputError(f"an importance matrix needs a quantized type, not {type}")
    if plot is not None and not verify_output:
        raise QuantizeInputError("--plot needs the verification (drop --no-verify)")
    if plot is not None and Path(plot).suffix.lower() != ".png":
        raise QuantizeInputError(f"--plot writes a PNG: give a .png path, got {plot}")
    imatrix_text: Optional[str] = None
    if imatrix is True:
        imatrix_text = calibration_text()
    elif imatrix:
        p = Path(imatrix).expanduser()
        if not p.is_file():
            raise QuantizeInputError(f"calibration text file not found: {p}")
        imatrix_text = p.read_text(errors="replace")
    source = inspect_source(Path(src))
    lora_dir = Path(lora).expanduser() if lora is not None else None
    if lora_dir is not None:
        check_adapter(lora_dir, source)  # fail fast, before any heavy step
    target = Path(out).expanduser() if out is not None else _default_out(source.path, to, type, lora_dir)
    if target.exists():
        raise QuantizeInputError(f"output already exists: {target} (remove it or choose another --out)")
    if not target.parent.is_dir():
        raise QuantizeInputError(f"output folder does not exist: {target.parent}")

    with Steps(show=progress) as steps, scratch_dir(target.parent) as work:
        model = source
        if lora_dir is not None:
            with steps.step("merge LoRA (peft)"):
                model = merge_lora(source, lora_dir, work / "merged")
        if to == "gguf":
            export_gguf(model, target, type, steps=steps, imatrix_text=imatrix_text, n_threads=n_threads or 0)
        else:
            export_onnx(model, target, type, steps=steps)
        result = QuantizeResult(source=str(source.path), output=str(target), format=to, type=type,
                                lora=str(lora_dir) if lora_dir else None, size_bytes=_size(target),
                                imatrix=imatrix_text is not None)
        if verify_output:
            with steps.step("verify (perplexity, top-1, KL, BFCL, speed)"):
                # Against the model that was exported (the merged one with a LoRA).
                result.verification = verify(target, model.path, n_threads=n_threads, fc_items=fc_items,
                                             bfcl_dir=bfcl_dir)
        result.steps = [s.to_dict() for s in steps.records]
    if plot is not None:
        plot_reports([result.to_dict()], Path(plot).expanduser())
    return result


def _size(path: Path) -> int:
    from .verify import path_size

    return path_size(path)


def convert_adapter(adapter_dir: Union[str, os.PathLike[str]], base_dir: Union[str, os.PathLike[str]],
                    out: Union[str, os.PathLike[str]], *, outtype: str = "f16") -> Path:
    """A PEFT LoRA adapter → a llama.cpp GGUF adapter for `Engine.load_adapter` (atomic)."""
    source = inspect_source(Path(base_dir))
    check_adapter(Path(adapter_dir), source)
    if outtype not in ("f32", "f16", "bf16", "q8_0"):
        raise QuantizeInputError(f"adapter outtype must be f32, f16, bf16 or q8_0, got {outtype!r}")
    target = Path(out).expanduser()
    with atomic_file(target) as part:
        part.unlink()
        convert_lora_to_gguf(Path(adapter_dir), source.path, part, outtype=outtype)
    return target


def write_report(result: QuantizeResult, path: Path) -> None:
    with atomic_file(Path(path)) as part:
        part.write_text(json.dumps(result.to_dict(), indent=2))

