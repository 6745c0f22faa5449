"""HF directory → GGUF of a given quantization type.

llama.cpp's converter writes an f16 GGUF (in a scratch folder beside the output); our
native core quantizes it with `llama_model_quantize`, optionally weighted by an
importance matrix computed on calibration text. The output is atomic.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Optional

from .. import _core
from ..errors import QuantizeInputError
from .atomic import atomic_file, scratch_dir
from .converter import convert_hf_to_gguf
from .hf_source import HFSource
from .steps import Steps

__all__ = ["GGUF_TYPES", "export_gguf", "importance_matrix"]

GGUF_TYPES: tuple[str, ...] = tuple(_core.quantize_types())
# Rough bits per weight, only to size the quantize progress bar.
_BITS = {"f16": 16.0, "bf16": 16.0, "q8_0": 8.5, "q6_k": 6.6, "q5_k_m": 5.7, "q4_k_m": 4.9, "q4_0": 4.5, "iq4_nl": 4.5}
IMATRIX_CHUNK = 128  # tokens per calibration chunk


def check_type(qtype: str) -> str:
    if qtype not in GGUF_TYPES:
        raise QuantizeInputError(f"unknown GGUF quantization type '{qtype}' (supported: {', '.join(GGUF_TYPES)})")
    return qtype


def importance_matrix(f16_gguf: Path, text: str, *, n_threads: int = 0) -> dict[str, list[float]]:
    """The importance matrix of `f16_gguf` over calibration `text` (chunks of 128 tokens)."""
    params = _core.ModelParams()
    params.vocab_only = True
    vocab = _core.Model.load(str(f16_gguf), params)
    tokens = vocab.tokenize(text, True, False)
    if len(tokens) < IMATRIX_CHUNK:
        raise QuantizeInputError(f"the calibration text has {len(tokens)} tokens; the importance matrix needs at "
                                 f"least {IMATRIX_CHUNK}")
    return _core.compute_importance_matrix(str(f16_gguf), tokens, IMATRIX_CHUNK, n_threads)


def _watch_size(path: Path, expected: float, update, stop: threading.Event) -> None:
    while not stop.wait(0.2):
        try:
            update(min(path.stat().st_size, expected * 0.99), expected)
        except OSError:
            pass


def export_gguf(source: HFSource, out: Path, qtype: str, *, steps: Steps, imatrix_text: Optional[str] = None,
                n_threads: int = 0) -> Path:
    check_type(qtype)
    out = Path(out)
    with scratch_dir(out.parent) as tmp:
        f16 = tmp / "model-f16.gguf"
        with steps.step("convert HF → GGUF f16 (llama.cpp)") as update:
            convert_hf_to_gguf(source.path, f16, outtype="f16", on_progress=lambda i, n: update(i, n))
        imatrix = None
        if imatrix_text is not None:
            with steps.step("importance matrix"):
                imatrix = importance_matrix(f16, imatrix_text, n_threads=n_threads)
        with steps.step(f"quantize → {qtype}") as update, atomic_file(out) as part:
            if qtype == "f16" and imatrix is None:
                os.replace(f16, part)
            else:
                part.unlink()  # llama.cpp creates the file itself
                expected = f16.stat().st_size * _BITS[qtype] / 16.0
                stop = threading.Event()
                watcher = threading.Thread(target=_watch_size, args=(part, expected, update, stop), daemon=True)
                watcher.start()
                try:
                    _core.quantize_model(str(f16), str(part), qtype, n_threads, imatrix)
                finally:
                    stop.set()
                    watcher.join()
    return out
