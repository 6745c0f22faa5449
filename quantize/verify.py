"""What quantization cost: the exported model measured against its source.

- perplexity on a held text (quantize/data/held_text.txt, never used for calibration);
- top-1 agreement and mean KL(source ‖ exported) of the next-token distributions at
  every position of that text, the source being the HF model run by transformers;
- function-calling accuracy with `Agent.call` on a small subset of the BFCL dev split
  (when the model's chat template has a tool format);
- file sizes, load time and decode tok/s in the engine that will run it.
Both models see the same token ids (the exported model's own tokenization), so the
comparison is of distributions, not of tokenizers.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Optional, Union

import numpy as np

from ..errors import QuantizeError

__all__ = ["Verification", "verify", "held_text", "reference_logits", "compare_logits", "path_size"]

DATA = Path(__file__).parent / "data"


def default_bfcl_dir() -> Path:
    """$EDGEAGENT_BFCL_DIR, else ../shared/bench/bfcl-dev from the working directory."""
    env = os.environ.get("EDGEAGENT_BFCL_DIR")
    return Path(env) if env else Path.cwd().parent / "shared" / "bench" / "bfcl-dev"


def held_text() -> str:
    return (DATA / "held_text.txt").read_text()


def calibration_text() -> str:
    return (DATA / "calibration.txt").read_text()


def path_size(path: Path) -> int:
    path = Path(path)
    if path.is_dir():
        return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    return path.stat().st_size


@dataclass
class Verification:
    n_tokens: int
    perplexity: float
    source_perplexity: float
    top1_agreement: float
    kl_divergence: float  # mean KL(source ‖ exported), nats per token
    size_bytes: int
    source_size_bytes: int
    load_s: float
    decode_tok_s: float
    function_calling: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def reference_logits(source_dir: Path, tokens: list[int]) -> np.ndarray:
    """The source HF model's logits at every position (transformers, float32, CPU)."""
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(str(source_dir), dtype=torch.float32)
    model.eval()
    with torch.inference_mode():
        out = model(torch.tensor([tokens], dtype=torch.long)).logits[0]
    return out.float().numpy()


def _log_softmax(x: np.ndarray) -> np.ndarray:
    x = x.astype(np.float64)
    m = x.max(axis=-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=-1, keepdims=True))


def compare_logits(reference: np.ndarray, candidate: np.ndarray, tokens: list[int]) -> dict[str, float]:
    """Top-1 agreement, mean KL(reference ‖ candidate), and both perplexities on `tokens`."""
    n = min(reference.shape[0], candidate.shape[0], len(tokens))
    v = min(reference.shape[1], candidate.shape[1])
    agree, kl, nll_c, nll_r = 0, 0.0, 0.0, 0.0
    for i in range(n):  # row by row: a 262k vocabulary in float64 is 2 MB a row
        lr = _log_softmax(reference[i, :v])
        lc = _log_softmax(candidate[i, :v])
        agree += int(np.argmax(lr) == np.argmax(lc))
        kl += float(np.sum(np.exp(lr) * (lr - lc)))
        if i + 1 < n:
            nll_c -= lc[tokens[i + 1]]
            nll_r -= lr[tokens[i + 1]]
    steps = max(n - 1, 1)
    return {"top1_agreement": agree / n, "kl_divergence": max(kl / n, 0.0),
            "perplexity": math.exp(nll_c / steps), "source_perplexity": math.exp(nll_r / steps)}


def _function_calling(engine: Any, bfcl_dir: Path, n_items: int) -> dict[str, Any]:
    if n_items <= 0:
        return {"skipped": "disabled"}
    if "tools" not in engine.chat_template:
        return {"skipped": "the model's chat template has no tool format"}
    if not (bfcl_dir / "simple_python.jsonl").is_file():
        return {"skipped": f"no BFCL data at {bfcl_dir}"}
    from ..agent import Agent
    from ..bench.bfcl import load_category, score_item

    items = load_category(bfcl_dir, "simple_python")[:n_items]
    agent = Agent(engine=engine)
    passed = 0
    for item in items:
        try:
            calls = [c.to_dict() for c in agent.call(item.messages, item.tools, mode="auto", parallel=True).calls]
        except Exception:  # a failed prediction is a miss, not the end of verification
            calls = []
        passed += int(score_item(item, calls).ok)
    return {"category": "simple_python", "items": len(items), "passed": passed,
            "accuracy": passed / len(items) if items else 0.0}


def verify(output: Union[str, os.PathLike[str]], source_dir: Union[str, os.PathLike[str]], *,
           n_threads: Optional[int] = None, bfcl_dir: Optional[Path] = None, fc_items: int = 5,
           max_tokens: int = 192, reference: Optional[np.ndarray] = None) -> Verification:
    """Measures `output` (a GGUF file or an ONNX directory) against the HF `source_dir`."""
    from ..engine import Engine

    output, source_dir = Path(output), Path(source_dir)
    t0 = time.perf_counter()
    engine = Engine(output, n_ctx=1024, n_threads=n_threads)
    load_s = time.perf_counter() - t0
    tokens = engine.tokenize(held_text())[:max_tokens]
    if len(tokens) < 16:
        raise QuantizeError("the held text tokenized to fewer than 16 tokens")
    candidate = engine._session.all_logits(tokens)
    ref = reference if reference is not None else reference_logits(source_dir, tokens)
    quality = compare_logits(ref, candidate, tokens)
    del candidate
    speed = engine.generate("The history of computing", max_tokens=48, ignore_eos=True, temperature=0.0)
    fc = _function_calling(engine, bfcl_dir or default_bfcl_dir(), fc_items)
    source_size = sum(path_size(f) for f in source_dir.iterdir() if f.suffix in (".safetensors", ".bin"))
    return Verification(n_tokens=len(tokens), size_bytes=path_size(output), source_size_bytes=source_size,
                        load_s=round(load_s, 3), decode_tok_s=round(speed.timings.decode_tok_s, 2),
                        function_calling=fc, **{k: round(v, 5) for k, v in quality.items()})
