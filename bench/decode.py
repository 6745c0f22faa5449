"""`edgeagent bench decode`: our native decode loop vs llama-cpp-python on the same model.

Both engines load the same GGUF with the same thread count and context size, decode
the same prompt greedily, and are run alternately (ours, theirs, ours, …) so that
noise from this shared machine falls on both. Decode speed is measured the same way
for both, from the outside: streamed text pieces after the first / time from the first
piece to the last, the prompt already in the KV cache (both engines keep a prefix cache).
"""

from __future__ import annotations

import os
import statistics
import time
from typing import Any, Callable, Sequence

from ..engine import Engine, GenerationOptions
from ..models import resolve

__all__ = ["run_decode_bench", "DEFAULT_PROMPT"]

DEFAULT_PROMPT = (
    "Write a detailed, step by step explanation of how a hash map works, "
    "covering hashing, buckets, collisions, resizing and complexity."
)


def _measure(stamps: Sequence[float]) -> dict[str, float]:
    n = len(stamps)
    span = stamps[-1] - stamps[0] if n > 1 else 0.0
    return {"tokens": n, "decode_tok_s": (n - 1) / span if span > 0 else 0.0}


def _ours(engine: Engine, prompt: str, max_tokens: int) -> Callable[[], list[float]]:
    tokens = engine.tokenize(prompt)
    options = GenerationOptions(max_tokens=max_tokens, temperature=0.0, seed=0)

    def run() -> list[float]:
        stamps: list[float] = []

        def on_text(piece: bytes) -> bool:
            stamps.append(time.perf_counter())
            return True

        engine._run(tokens, options, on_text)
        return stamps

    return run


def _theirs(llm: Any, prompt: str, max_tokens: int) -> Callable[[], list[float]]:
    def run() -> list[float]:
        stamps: list[float] = []
        for chunk in llm.create_completion(prompt, max_tokens=max_tokens, temperature=0.0, top_k=1, stream=True):
            if chunk["choices"][0]["text"]:
                stamps.append(time.perf_counter())
        return stamps

    return run


def run_decode_bench(models: Sequence[str], *, max_tokens: int = 128, repeats: int = 3, threads: int = 2,
                     n_ctx: int = 2048, prompt: str = DEFAULT_PROMPT,
                     progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    import llama_cpp  # the peer; a dependency of ours anyway

    report: dict[str, Any] = {"bench": "decode", "threads": threads, "max_tokens": max_tokens,
                              "repeats": repeats, "n_ctx": n_ctx, "flash_attn": False, "prompt": prompt,
                              "llama_cpp_python": llama_cpp.__version__, "cpus": os.cpu_count(),
                              "load_avg_before": os.getloadavg()[0], "models": []}
    for name in models:
        path = resolve(name)
        if progress:
            progress(f"loading {name}")
        ours_engine = Engine(path, n_ctx=n_ctx, n_threads=threads)
        theirs_llm = llama_cpp.Llama(model_path=str(path), n_ctx=n_ctx, n_threads=threads, n_threads_batch=threads,
                           flash_attn=False, verbose=False)
        runners = {"edgeagent": _ours(ours_engine, prompt, max_tokens),
                   "llama_cpp_python": _theirs(theirs_llm, prompt, max_tokens)}
        samples: dict[str, list[dict[str, float]]] = {k: [] for k in runners}
        for k, run in runners.items():  # warm-up: loads weights into cache, fills the prefix cache
            run()
        for i in range(repeats):
            order = list(runners.items())
            if i % 2:
                order.reverse()  # neither engine always runs right after the other's load
            for k, run in order:
                samples[k].append(_measure(run()))
                if progress:
                    progress(f"{name} run {i + 1}/{repeats} {k}: {samples[k][-1]['decode_tok_s']:.1f} tok/s")
        entry: dict[str, Any] = {"model": name, "path": str(path)}
        for k, s in samples.items():
            entry[k] = {"decode_tok_s": statistics.median(x["decode_tok_s"] for x in s),
                        "runs": [round(x["decode_tok_s"], 2) for x in s],
                        "tokens": int(statistics.median(x["tokens"] for x in s))}
        # Each repeat runs both engines back to back: the median of those paired ratios is
        # less sensitive to the machine's load drifting than a ratio of medians.
        pairs = [a["decode_tok_s"] / b["decode_tok_s"]
                 for a, b in zip(samples["edgeagent"], samples["llama_cpp_python"]) if b["decode_tok_s"] > 0]
        entry["ratio"] = statistics.median(pairs) if pairs else None
        entry["paired_ratios"] = [round(r, 3) for r in pairs]
        report["models"].append(entry)
        del theirs_llm, ours_engine
    report["load_avg_after"] = os.getloadavg()[0]
    return report
