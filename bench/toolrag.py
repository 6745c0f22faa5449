"""Tool-retrieval recall@k: the assistant tasks' requests -> the tools each one needs.

The library is the local tools (26) plus distractors: every distinct function of the
BFCL dev files (`$EDGEAGENT_SHARED/bench/bfcl-dev/*.jsonl`, or `--distractors DIR`),
converted to tool schemas. recall@k is the share of a task's needed tools found in
the top k (averaged over tasks); all_needed@k the share of tasks with every needed
tool in the top k (what a planner shown only k tools needs).
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any, Optional, Sequence

__all__ = ["evaluate", "distractor_tools", "DEFAULT_DISTRACTORS"]

DEFAULT_DISTRACTORS = Path(os.environ.get("EDGEAGENT_SHARED", "/work/shared")) / "bench" / "bfcl-dev"


def distractor_tools(folder: Path, taken: set[str]) -> list[dict]:
    """Distinct BFCL functions of `folder` as OpenAI tool dicts (names in `taken` skipped)."""
    from .bfcl import bfcl_function_to_tool

    if not folder.is_dir():
        raise ValueError(f"distractor folder {folder} does not exist")
    out, seen = [], set(taken)
    for path in sorted(folder.glob("*.jsonl")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as e:
                raise ValueError(f"{path}:{n}: not JSON ({e.msg})") from None
            for fn in record.get("function", []):
                name = fn.get("name")
                if not name or name in seen:
                    continue
                try:
                    out.append(bfcl_function_to_tool(fn))
                except Exception:  # a schema our tools cannot express is just not a distractor
                    continue
                seen.add(name)
    return out


def evaluate(ks: Sequence[int], *, backend: str = "all", distractors: Optional[Path] = None) -> dict[str, Any]:
    from edgeagent.tool import Tool, ToolRegistry
    from edgeagent.toolrag import ToolRAG, embedding_model_available
    from edgeagent.tools import local_tools

    from .assistant import load_tasks

    backends = ["hybrid", "embedding", "bm25"] if backend == "all" else [backend]
    if not embedding_model_available():
        backends = [b for b in backends if b == "bm25"] or ["bm25"]
    tasks = load_tasks()
    with tempfile.TemporaryDirectory() as tmp:
        library = local_tools(tmp)
    local_names = set(library.names())
    folder = distractors or DEFAULT_DISTRACTORS
    extra = distractor_tools(folder, local_names) if folder.is_dir() else []
    registry = ToolRegistry(list(library))
    for spec in extra:
        try:
            registry.add(Tool.from_openai(spec))
        except Exception:
            continue
    report: dict[str, Any] = {"eval": "toolrag", "queries": len(tasks), "library": len(registry),
                              "local_tools": len(local_names), "distractors": len(registry) - len(local_names),
                              "distractor_source": str(folder) if extra else None, "k": list(ks), "backends": {}}
    for name in backends:
        start = time.perf_counter()
        rag = ToolRAG(registry, backend=name)
        index_s = time.perf_counter() - start
        recall = {k: [] for k in ks}
        full = {k: [] for k in ks}
        times = []
        misses = []
        for t in tasks:
            start = time.perf_counter()
            ranked = [r.tool.name for r in rag.search(t["query"], max(ks))]
            times.append((time.perf_counter() - start) * 1000)
            need = set(t["tools"])
            for k in ks:
                got = need & set(ranked[:k])
                recall[k].append(len(got) / len(need))
                full[k].append(float(got == need))
            if not need <= set(ranked[:max(ks)]):
                misses.append({"id": t["id"], "missing": sorted(need - set(ranked[:max(ks)]))})
        report["backends"][name] = {
            "recall": {str(k): round(statistics.mean(v), 4) for k, v in recall.items()},
            "all_needed": {str(k): round(statistics.mean(v), 4) for k, v in full.items()},
            "by_split": {s: {str(k): round(statistics.mean(full[k][i] for i, t in enumerate(tasks)
                                                             if t["split"] == s), 4) for k in ks}
                         for s in ("dev", "heldout")},
            "index_s": round(index_s, 3), "query_ms_median": round(statistics.median(times), 3),
            "misses_at_max_k": misses}
    return report
