"""`Executor`: runs a plan's calls as a DAG, in parallel where they are independent.

A step waits for the steps its arguments refer to (`$k`, `$k.field`); the steps
that are ready together form a wave and run on a thread pool. Before a call runs:
its references are resolved, its arguments validated, the guard (if any) checks it,
and side-effecting calls are put to the `confirm` callback. A call that cannot run
(bad reference, invalid arguments, tool error, denied, declined) gets a structured
observation instead of a result (a call whose tool rejects one optional argument runs
once more without it), so the model can re-plan from it; the steps that
depend on it are skipped. A guard verdict of "stop" ends the turn.

Guard events go to the guard in plan order, from this thread (a monitor is a
sequential object); only the tool bodies run in parallel.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from .errors import EdgeAgentError, InvalidParameterError, ToolArgumentError
from .guard import GuardEvent
from .planner import _WHOLE_REFERENCE, REFERENCE, Plan, Step
from .tool import ToolRegistry

__all__ = ["Executor", "StepOutcome", "ExecutionReport", "resolve_references", "ReferenceError_",
           "guard_event"]

#: Called before a side-effecting (or guard-"confirm") call: (tool name, arguments) -> run it?
ConfirmCallback = Callable[[str, dict], bool]


class ReferenceError_(EdgeAgentError):
    """A `$k.field` reference that cannot be resolved (named with a trailing _ : not the builtin)."""


def guard_event(kind: str, *args: Any) -> GuardEvent:
    """`GuardEvent.<kind>(*args)`: the event the executor reports to its guard."""
    return getattr(GuardEvent, kind)(*args)


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return f"an object with fields {', '.join(map(str, value)) or '(none)'}"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    return f"the {type(value).__name__} {value!r}"[:80]


def _find_key(value: Any, key: str) -> tuple[bool, Any]:
    """Breadth-first search for `key` in nested results (the model rarely knows their exact nesting)."""
    queue = [value]
    while queue:
        node = queue.pop(0)
        if isinstance(node, dict):
            if key in node:
                return True, node[key]
            queue.extend(node.values())
        elif isinstance(node, list):
            queue.extend(node[:1])  # the first item: "$1.email" of a search means its best hit
    return False, None


def _field(value: Any, name: str, ref: str) -> Any:
    if isinstance(value, list):
        if name.isdigit():
            if int(name) < len(value):
                return value[int(name)]
            raise ReferenceError_(f"{ref}: index {name} is past the end of a list of {len(value)}")
        if not value:
            raise ReferenceError_(f"{ref}: the result list is empty, so it has no {name!r}")
    found, out = _find_key(value, name)
    if found:
        return out
    # "$1.email" of a result that lists "emails": the first one (and "$1.emails" of "email").
    for alias in (name + "s", name[:-1] if name.endswith("s") else None):
        if alias:
            found, out = _find_key(value, alias)
            if found:
                return out[0] if isinstance(out, list) and out and not name.endswith("s") else out
    raise ReferenceError_(f"{ref}: no field {name!r} in {_describe(value)}")


def _lookup(results: dict[int, Any], step: int, path: str, ref: str) -> Any:
    if step not in results:
        raise ReferenceError_(f"{ref}: step {step} has no result to use")
    value = results[step]
    for name in [p for p in path.split(".") if p]:
        value = _field(value, name, ref)
    return value


def resolve_references(value: Any, results: dict[int, Any]) -> Any:
    """`value` with every `$k` / `$k.field` replaced by that result (a whole-string reference
    keeps the result's type; one inside a longer text is written into it)."""
    if isinstance(value, str):
        whole = _WHOLE_REFERENCE.match(value)
        if whole:
            return _lookup(results, int(whole.group(1)), whole.group(2), value)

        def text(m: Any) -> str:
            if int(m.group(1)) not in results:
                return m.group(0)  # "$5 budget": money, not a step
            got = _lookup(results, int(m.group(1)), m.group(2), m.group(0))
            return got if isinstance(got, str) else json.dumps(got, ensure_ascii=False)
        return REFERENCE.sub(text, value)
    if isinstance(value, dict):
        return {k: resolve_references(v, results) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_references(v, results) for v in value]
    return value


def _coerce_to_schema(arguments: dict, parameters: dict) -> dict:
    """A structured result put where the tool wants a string becomes its JSON text."""
    props = parameters.get("properties") or {}
    out = dict(arguments)
    for name, v in arguments.items():
        want = (props.get(name) or {}).get("type")
        if isinstance(v, (dict, list)) and (want == "string" or (isinstance(want, list) and "string" in want
                                                                  and "array" not in want)):
            out[name] = json.dumps(v, ensure_ascii=False)
        elif isinstance(v, (int, float)) and not isinstance(v, bool) and want == "string":
            out[name] = str(v)
    return out


def _without_rejected_option(parameters: dict, arguments: dict, error: ToolArgumentError) -> Optional[dict]:
    """`arguments` without the optional one the tool rejected (its error names it), or None
    (the call is tried again so, as long as its rejections name optional arguments).
    Small models fill optional parameters with what does not fit them (a file name as a
    draft id, an end date for a single event); the tool's default is what the user asked
    for then. A tool refuses before it acts, and fewer arguments ask for less, so the call
    the guard and the person admitted covers the retry."""
    name = getattr(error, "parameter", None)
    if name not in arguments or name in (parameters.get("required") or []):
        return None
    return {k: v for k, v in arguments.items() if k != name}


@dataclass
class StepOutcome:
    step: Step
    status: str  # ok | error | denied | declined | skipped | stopped
    result: Any  # the tool's result, or an observation {"error": ...}
    arguments: Optional[dict] = None  # after references were resolved
    seconds: float = 0.0
    guard: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict[str, Any]:
        return {"step": self.step.index, "name": self.step.tool, "arguments": self.arguments or self.step.arguments,
                "status": self.status, "result": self.result, "seconds": round(self.seconds, 4),
                "guard": self.guard}


@dataclass
class ExecutionReport:
    outcomes: list[StepOutcome]
    stopped: bool = False  # a guard said "stop"

    @property
    def failed(self) -> list[StepOutcome]:
        return [o for o in self.outcomes if not o.ok]


class Executor:
    """Runs plans over a tool registry, with an optional guard and confirmation callback."""

    def __init__(self, registry: ToolRegistry, *, guard: Any = None, confirm: Optional[ConfirmCallback] = None,
                 max_workers: int = 4, on_event: Optional[Callable[[str, dict], None]] = None):
        self.registry = registry
        self.guard = guard
        self.confirm = confirm
        self.max_workers = max_workers
        self.on_event = on_event or (lambda kind, data: None)

    # -- one call, before it runs --------------------------------------------------
    def _admit(self, step: Step, arguments: dict) -> tuple[str, Optional[dict], list[dict]]:
        """Guard and confirmation: ("ok" | "denied" | "declined" | "stop", observation, decisions)."""
        decisions: list[dict] = []
        asked = False
        tool = self.registry.get(step.tool)
        if self.guard is not None:
            verdict = self.guard.check(guard_event("call", step.tool, arguments))
            decision = {"step": step.index, "tool": step.tool, "action": verdict.action,
                        "rule": getattr(verdict, "rule", None), "reason": getattr(verdict, "reason", None)}
            decisions.append(decision)
            self.on_event("guard", decision)
            if verdict.action == "stop":
                return "stop", {"error": "stopped by policy", "rule": decision["rule"],
                                "reason": decision["reason"]}, decisions
            if verdict.action == "deny":
                return "denied", {"error": "denied by policy", "rule": decision["rule"],
                                  "reason": decision["reason"]}, decisions
            if verdict.action == "confirm":
                asked = True
                if not (self.confirm is not None and self.confirm(step.tool, arguments)):
                    return "declined", {"error": "the user declined this call", "rule": decision["rule"]}, decisions
        if tool.side_effect and not asked and self.confirm is not None:
            if not self.confirm(step.tool, arguments):
                return "declined", {"error": "the user declined this call"}, decisions
        return "ok", None, decisions

    def _invoke(self, step: Step, arguments: dict) -> tuple[str, Any, float, dict]:
        """(status, result or observation, seconds, the arguments the call ran with)."""
        start = time.perf_counter()
        try:
            while True:  # ends: each retry has one argument fewer
                try:
                    value = self.registry.invoke(step.tool, arguments)
                    break
                except ToolArgumentError as e:
                    fewer = _without_rejected_option(self.registry.get(step.tool).parameters or {}, arguments, e)
                    if fewer is None:
                        raise
                    arguments = fewer
            json.dumps(value, default=str)  # results travel as JSON to the model
            return "ok", value, time.perf_counter() - start, arguments
        except EdgeAgentError as e:
            return "error", {"error": str(e)}, time.perf_counter() - start, arguments
        except Exception as e:  # a tool's own bug must not end the turn; the model sees it
            return "error", {"error": f"{type(e).__name__}: {e}"}, time.perf_counter() - start, arguments

    # -- the plan ------------------------------------------------------------------
    def run(self, plan: Plan, *, results: Optional[dict[int, Any]] = None) -> ExecutionReport:
        """Runs `plan`. `results` may hold earlier steps' results (a re-plan continues a turn)."""
        known: dict[int, Any] = dict(results or {})
        outcomes: dict[int, StepOutcome] = {}
        pending = {s.index: s for s in plan.steps}
        stopped = False
        with ThreadPoolExecutor(max_workers=self.max_workers, thread_name_prefix="edgeagent-tool") as pool:
            while pending and not stopped:
                ready = [s for s in pending.values() if all(d in known or d in outcomes for d in s.depends_on())]
                if not ready:  # a reference to a step not in the plan: nothing will come
                    ready = list(pending.values())
                wave: list[tuple[Step, dict]] = []
                for step in sorted(ready, key=lambda s: s.index):
                    del pending[step.index]
                    bad = [d for d in step.depends_on() if d in outcomes and not outcomes[d].ok]
                    if bad:
                        outcomes[step.index] = StepOutcome(step, "skipped", {
                            "error": f"not run: step {bad[0]} it depends on did not succeed"})
                        self.on_event("result", outcomes[step.index].to_dict())
                        continue
                    try:
                        args = resolve_references(step.arguments, {k: v for k, v in known.items()
                                                                   if k < step.index})
                        tool = self.registry.get(step.tool)
                        args = _coerce_to_schema(args, tool.parameters)
                        tool.validate_arguments(args)  # checked here so a bad call is never admitted
                    except EdgeAgentError as e:
                        outcomes[step.index] = StepOutcome(step, "error", {"error": str(e)})
                        self.on_event("result", outcomes[step.index].to_dict())
                        continue
                    self.on_event("call", {"step": step.index, "name": step.tool, "arguments": args})
                    status, observation, decisions = self._admit(step, args)
                    if status != "ok":
                        outcomes[step.index] = StepOutcome(step, "stopped" if status == "stop" else status,
                                                           observation, args, guard=decisions)
                        self.on_event("result", outcomes[step.index].to_dict())
                        if status == "stop":
                            stopped = True
                            break
                        continue
                    if self.guard is not None:
                        self.guard.step(guard_event("call", step.tool, args))
                    outcomes[step.index] = StepOutcome(step, "ok", None, args, guard=decisions)
                    wave.append((step, args))
                futures = [(s, pool.submit(self._invoke, s, a)) for s, a in wave]
                for step, fut in futures:  # in plan order: results reach the guard deterministically
                    status, value, seconds, used = fut.result()
                    o = outcomes[step.index]
                    o.status, o.result, o.seconds, o.arguments = status, value, seconds, used
                    if status == "ok":
                        known[step.index] = value
                    if self.guard is not None:
                        self.guard.step(guard_event("result", step.tool, value))
                    self.on_event("result", o.to_dict())
        for step in pending.values():
            outcomes[step.index] = StepOutcome(step, "stopped", {"error": "not run: the turn was stopped"})
        return ExecutionReport([outcomes[i] for i in sorted(outcomes)], stopped)
