"""`edgeagent eval bfcl`: run a function-calling *method* over BFCL items and score it.

A method is a small object with ``name`` and ``predict(item) -> [{"name", "arguments"}]``;
the harness times each ``predict`` (wall time, ``latency_s``) and scores the calls with
`edgeagent.bench.bfcl` (BFCL's AST rules). The harness knows nothing about models:
methods are built by name from the `METHODS` registry, whose factories load them, so a
new method (e.g. the engine's own ``Agent.call``) is one entry there.

A ``predict`` that raises is not fatal to the run: the item counts as a miss whose
reason names the error (its calls are ``[]``, but it never passes, even in irrelevance).
"""

from __future__ import annotations

import os
import time
from typing import Any, Callable, Iterable, Protocol

from ..errors import UserInputError
from .bfcl import BfclItem, ItemResult, Prediction, canonical_category, load_category, score_item, summarize

__all__ = [
    "Method",
    "AgentCall",
    "METHODS",
    "DEFAULT_METHOD",
    "make_method",
    "load_items",
    "run_items",
    "evaluate",
    "evaluate_items",
    "predictions_of",
]


class Method(Protocol):
    name: str

    def predict(self, item: BfclItem) -> list[dict]: ...

    # Optional: `warm(item)` evaluates what an app knows before the query (the system
    # and tools prefix) into the method's prompt cache; run untimed with --warm.


class AgentCall:
    """The engine's own method: `Agent.call` (model template + tool-call grammar)."""

    name = "edgeagent"

    def __init__(self, model: str | None, *, n_threads: int, n_ctx: int, prefill_model: str | None = "auto"):
        from ..agent import Agent

        self.agent = Agent(model, n_threads=n_threads, n_ctx=n_ctx, prefill_model=prefill_model)

    def warm(self, item: BfclItem) -> None:
        self.agent.warm(item.tools, item.messages[:-1])

    def predict(self, item: BfclItem) -> list[dict]:
        result = self.agent.call(item.messages, item.tools, mode="auto", parallel=True)
        return [c.to_dict() for c in result.calls]


def _edgeagent(model: str | None, n_threads: int, n_ctx: int, prefill_model: str | None) -> Method:
    return AgentCall(model, n_threads=n_threads, n_ctx=n_ctx, prefill_model=prefill_model)


# The peers run the model file as it is: a prefill model is the engine's own.
def _template(model: str | None, n_threads: int, n_ctx: int, _prefill_model: str | None) -> Method:
    from .bfcl_peers import TemplateFreeGeneration

    return TemplateFreeGeneration(model, n_threads=n_threads, n_ctx=n_ctx)


def _chatml(model: str | None, n_threads: int, n_ctx: int, _prefill_model: str | None) -> Method:
    from .bfcl_peers import LlamaCppChatmlFunctionCalling

    return LlamaCppChatmlFunctionCalling(model, n_threads=n_threads, n_ctx=n_ctx)


# name -> factory(model, n_threads, n_ctx, prefill_model). --compare runs the primary method
# first, then the others in this order; DEFAULT_METHOD is the primary one unless --method
# says otherwise.
METHODS: dict[str, Callable[[str | None, int, int, str | None], Method]] = {
    "edgeagent": _edgeagent,
    "template": _template,
    "chatml": _chatml,
}
DEFAULT_METHOD = "edgeagent"


def make_method(name: str, model: str | None = None, *, n_threads: int = 2, n_ctx: int = 4096,
                prefill_model: str | None = "auto") -> Method:
    """Build the method registered as `name` (loads its model)."""
    factory = METHODS.get(name)
    if factory is None:
        raise UserInputError(f"unknown method {name!r}; known: {', '.join(METHODS)}")
    return factory(model, n_threads, n_ctx, prefill_model)


def load_items(data_dir: str | os.PathLike, categories: Iterable[str], limit: int | None = None) -> list[BfclItem]:
    """The items of each category in order, the first `limit` of each (all if None).

    Every input is checked before any model is loaded: a missing directory, an unknown
    or repeated category, a missing file or ``limit < 1`` raise UserInputError.
    """
    categories = list(categories)
    if not categories:
        raise UserInputError("give at least one BFCL category (--category)")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise UserInputError(f"--limit must be a positive integer, got {limit!r}")
    if not os.path.isdir(data_dir):
        raise UserInputError(f"BFCL data directory not found: {data_dir}")
    names = [canonical_category(c) for c in categories]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise UserInputError(f"category given more than once: {', '.join(repeated)}")
    items: list[BfclItem] = []
    for category in categories:
        items.extend(load_category(data_dir, category)[:limit])
    return items


def run_items(method: Method, items: Iterable[BfclItem],
              progress: Callable[[str, BfclItem, dict], None] | None = None, warm: bool = False) -> list[dict]:
    """Run `method` on each item; one record per item:
    ``{"id", "category", "ok", "reason", "latency_s", "calls", "error"}`` (error: None or
    ``"Type: message"`` when predict raised). `warm`: first call the method's
    ``warm(item)``, untimed, so latency is measured with a warm prefix cache."""
    records = []
    warm_up = getattr(method, "warm", None) if warm else None
    for item in items:
        if warm_up is not None:
            try:
                warm_up(item)
            except Exception:  # noqa: BLE001 - predict below meets and reports the same error
                pass
        start = time.perf_counter()
        try:
            calls, error = method.predict(item), None
        except Exception as e:  # one failing item must not lose the run; it is reported
            calls, error = [], f"{type(e).__name__}: {e}"
        if not isinstance(calls, list):
            calls, error = [], f"TypeError: predict returned {type(calls).__name__}, not a list of calls"
        latency = time.perf_counter() - start
        if error is None:
            score = score_item(item, calls)
            ok, reason = score.ok, score.reason
        else:
            ok, reason = False, f"method error: {error}"
        record = {"id": item.id, "category": item.category, "ok": ok, "reason": reason,
                  "latency_s": latency, "calls": calls, "error": error}
        records.append(record)
        if progress:
            progress(method.name, item, record)
    return records


def _report(method: Method, records: list[dict]) -> dict[str, Any]:
    summary = summarize(ItemResult(r["id"], r["category"], r["ok"], r["reason"], r["latency_s"]) for r in records)
    for category, entry in summary.items():
        entry["errors"] = sum(1 for r in records if r["category"] == category and r["error"] is not None)
    return {"method": method.name, "categories": summary, "items": records}


def evaluate(method: Method, data_dir: str | os.PathLike, categories: Iterable[str], limit: int | None = None,
             progress: Callable[[str, BfclItem, dict], None] | None = None, warm: bool = False) -> dict[str, Any]:
    """Run `method` over the first `limit` items of each category and score them.

    Returns ``{"method": name, "categories": {category: {"count", "correct", "accuracy",
    "latency_median_s", "latency_p90_s", "errors"}}, "items": [{"id", "category", "ok",
    "reason", "latency_s", "calls", "error"}]}``.
    """
    items = load_items(data_dir, categories, limit)
    return _report(method, run_items(method, items, progress, warm))


def evaluate_items(method: Method, items: list[BfclItem],
                   progress: Callable[[str, BfclItem, dict], None] | None = None, warm: bool = False) -> dict[str, Any]:
    """`evaluate` on items already loaded (so several methods run the very same items)."""
    return _report(method, run_items(method, items, progress, warm))


def predictions_of(report: dict[str, Any]) -> list[Prediction]:
    """The predictions of a report, for `edgeagent.bench.bfcl.write_predictions`."""
    return [Prediction(r["id"], r["calls"], r["latency_s"]) for r in report["items"]]

