"""`Guard`: declarative temporal-logic policies over an agent's events, judged by the
native monitor before each event happens.

    guard = Guard.from_file("policy.ltl", tools=registry, audit="audit.jsonl")
    v = guard.check(GuardEvent.call("send_message", {"to": "bob", "body": "hi"}))
    if v.allowed:
        guard.step(GuardEvent.call(...)); ...; guard.step(GuardEvent.result("send_message", out))
    guard.allowed_tools(["send_message", "read_file"])   # {"send_message": "depends", ...}
    guard.check_final()                                   # obligations of the turn

The language is documented in README.md ("Behaviour guards"). `check` is pure (the
trace is unchanged); `step` commits an event. Rules on `result` events act after the
tool has run: `deny`/`stop` there means "do not show this result to the model" /
"end the turn", and any later call whose rule looks back at that result (`O result(...)`)
is judged with it in the trace.
"""

from __future__ import annotations

import json
import math
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional, Sequence, Union

from . import _core
from .errors import GuardViolation, InvalidParameterError, UserInputError

__all__ = ["Guard", "GuardEvent", "Verdict", "GuardViolation", "DeniedCall", "ACTIONS", "EVENT_KINDS", "POLICIES_DIR",
           "shipped_policies", "disabled_tools", "narrowed_tool_schema"]

#: The example policies shipped in the package (grammars/policies/*.ltl).
POLICIES_DIR = Path(__file__).resolve().parent / "grammars" / "policies"


def shipped_policies() -> dict[str, Path]:
    """Name -> path of each shipped example policy (e.g. "react", "no_exfiltration")."""
    return {p.stem: p for p in sorted(POLICIES_DIR.glob("*.ltl"))}

#: Verdict actions, least to most severe.
ACTIONS = ("allow", "confirm", "deny", "stop")
#: Built-in event kinds (anything else is a custom kind such as "thought").
EVENT_KINDS = ("user", "call", "result", "text", "final")
_KIND_CODE = {"user": 0, "call": 1, "result": 2, "text": 3, "final": 4, "custom": 5}


def _json_text(value: Any, what: str) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise InvalidParameterError(f"{what} must be JSON-serializable (no NaN/inf): {e}") from None


@dataclass(frozen=True)
class GuardEvent:
    """One event of an agent's trace. Build with the class methods."""

    kind: str                 # user, call, result, text, final, custom
    name: str = ""            # call/result: the tool; custom: the custom kind (e.g. "thought")
    value: Any = None         # call: the arguments (dict); result: the tool's result
    content: str = ""         # user/text/final/custom: the text

    @classmethod
    def user(cls, text: str) -> "GuardEvent":
        return cls("user", content=_text(text, "user text"))

    @classmethod
    def call(cls, tool: str, args: Optional[Mapping[str, Any]] = None) -> "GuardEvent":
        args = {} if args is None else args
        if not isinstance(args, Mapping) or not all(isinstance(k, str) for k in args):
            raise InvalidParameterError(f"call arguments must be a dict with string keys, got {type(args).__name__}")
        _json_text(dict(args), f"the arguments of {tool!r}")
        return cls("call", name=_name(tool, "tool"), value=dict(args))

    @classmethod
    def result(cls, tool: str, value: Any) -> "GuardEvent":
        _json_text(value, f"the result of {tool!r}")
        return cls("result", name=_name(tool, "tool"), value=value)

    @classmethod
    def text(cls, text: str) -> "GuardEvent":
        return cls("text", content=_text(text, "text"))

    @classmethod
    def final(cls, text: str = "") -> "GuardEvent":
        return cls("final", content=_text(text, "final text"))

    @classmethod
    def custom(cls, kind: str, text: str = "") -> "GuardEvent":
        kind = _name(kind, "custom event kind")
        if kind in EVENT_KINDS or kind == "custom":
            raise InvalidParameterError(f"{kind!r} is a built-in event kind; use GuardEvent.{kind}(...)")
        return cls("custom", name=kind, content=_text(text, "custom event text"))

    # -- JSON lines (traces and audit logs) ---------------------------------
    def to_dict(self) -> dict[str, Any]:
        if self.kind == "call":
            return {"event": "call", "tool": self.name, "args": self.value}
        if self.kind == "result":
            return {"event": "result", "tool": self.name, "value": self.value}
        if self.kind == "custom":
            return {"event": self.name, "text": self.content}
        return {"event": self.kind, "text": self.content}

    @classmethod
    def from_dict(cls, d: Any) -> "GuardEvent":
        """The inverse of to_dict: {"event": "call", "tool": ..., "args": {...}},
        {"event": "result", "tool": ..., "value": ...}, {"event": "user"|"text"|"final"|<custom>, "text": ...}."""
        if not isinstance(d, Mapping) or not isinstance(d.get("event"), str):
            raise InvalidParameterError('an event must be an object with an "event" name')
        kind = d["event"]
        known = {"call": {"event", "tool", "args"}, "result": {"event", "tool", "value"}}
        extra = set(d) - known.get(kind, {"event", "text"})
        if extra:
            raise InvalidParameterError(f"unknown field(s) {', '.join(sorted(extra))} in a {kind!r} event")
        if kind == "call":
            return cls.call(d.get("tool"), d.get("args", {}))
        if kind == "result":
            if "value" not in d:
                raise InvalidParameterError('a result event needs a "value"')
            return cls.result(d.get("tool"), d["value"])
        text = d.get("text", "")
        if kind in EVENT_KINDS:
            return getattr(cls, kind)(text)
        return cls.custom(kind, text)

    def _native(self) -> tuple[int, str, Optional[str], str]:
        value = _json_text(self.value, "the event value") if self.kind in ("call", "result") else None
        return _KIND_CODE[self.kind], self.name, value, self.content


def _name(name: Any, what: str) -> str:
    if not isinstance(name, str) or not name:
        raise InvalidParameterError(f"the {what} name must be a non-empty string, got {name!r}")
    return name


def _text(text: Any, what: str) -> str:
    if not isinstance(text, str):
        raise InvalidParameterError(f"{what} must be a string, got {type(text).__name__}")
    return text


@dataclass(frozen=True)
class Verdict:
    """What the guard says about one event (or, from check_final, about the turn)."""

    action: str                 # allow, confirm, deny, stop
    rule: Optional[str] = None  # the rule that decided (None when allowed)
    reason: str = ""            # its `because` text, or the rule's source text
    event: Optional[GuardEvent] = field(default=None, compare=False)

    @property
    def allowed(self) -> bool:
        return self.action == "allow"

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"action": self.action, "rule": self.rule, "reason": self.reason}
        if self.event is not None:
            d["event"] = self.event.to_dict()
        return d


ToolsArg = Union[None, Iterable[Any], Any]


def _tool_infos(tools: ToolsArg) -> Optional[list[tuple[str, str, list[str]]]]:
    """(name, parameters JSON, tags) from a ToolRegistry, Tools, OpenAI dicts or names."""
    if tools is None:
        return None
    from .tool import Tool, ToolRegistry

    if isinstance(tools, (str, bytes)) or not isinstance(tools, (Iterable, ToolRegistry)):
        raise InvalidParameterError("tools must be a ToolRegistry or a list of tools, tool dicts or names")
    infos = []
    for item in tools:
        if isinstance(item, str):
            infos.append((_name(item, "tool"), "", []))
        elif isinstance(item, Tool):
            infos.append((item.name, json.dumps(item.parameters), ["side_effect"] if item.side_effect else []))
        elif isinstance(item, Mapping):
            spec = item.get("function", item)
            name = spec.get("name") if isinstance(spec, Mapping) else None
            params = spec.get("parameters", {}) if isinstance(spec, Mapping) else {}
            tags = item.get("tags", spec.get("tags", []))
            if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
                raise InvalidParameterError(f"tool {name!r}: tags must be a list of strings")
            infos.append((_name(name, "tool"), json.dumps(params), list(tags)))
        else:
            raise InvalidParameterError(f"cannot read a tool from {type(item).__name__}")
    return infos


class Guard:
    """A compiled policy and the monitor of one conversation. Thread-safe (one lock)."""

    def __init__(self, policy: "_core.GuardPolicy", *, source: str = "<policy>", text: str = "",
                 audit: Union[str, os.PathLike[str], None] = None):
        self._policy = policy
        self._monitor = _core.GuardMonitor(policy)
        self._lock = threading.Lock()
        self.source = source
        self.text = text
        self._rules = policy.rules
        self._audit_path = Path(audit) if audit is not None else None
        self._audit = None
        if self._audit_path is not None:
            try:
                self._audit = open(self._audit_path, "a", encoding="utf-8")
            except OSError as e:
                raise UserInputError(f"cannot open audit log {self._audit_path}: {e.strerror}") from None

    # -- building ---------------------------------------------------------------
    @classmethod
    def from_text(cls, text: str, tools: ToolsArg = None, source: str = "<policy>", *,
                  audit: Union[str, os.PathLike[str], None] = None) -> "Guard":
        """Compiles policy text; GuardPolicyError (with line and column) if it is wrong. With
        `tools` (a ToolRegistry, Tools, OpenAI dicts or names), tool and argument names and
        types are checked, and `tagged(side_effect)` selects the tools marked side_effect."""
        if not isinstance(text, str):
            raise InvalidParameterError(f"policy text must be a string, got {type(text).__name__}")
        policy = _core.GuardPolicy.parse(text, source, _tool_infos(tools))
        return cls(policy, source=source, text=text, audit=audit)

    @classmethod
    def from_file(cls, path: Union[str, os.PathLike[str]], tools: ToolsArg = None, *,
                  audit: Union[str, os.PathLike[str], None] = None) -> "Guard":
        """Compiles a policy file; a bare name of a shipped policy ("react", "loop_guard"...)
        that is not an existing file selects that policy."""
        path = Path(path)
        if not path.exists() and path.suffix == "" and path.name in shipped_policies():
            path = shipped_policies()[path.name]
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise UserInputError(f"policy file {path} does not exist") from None
        except UnicodeDecodeError as e:
            raise UserInputError(f"policy file {path} is not UTF-8 text (byte {e.start})") from None
        except OSError as e:
            raise UserInputError(f"cannot read policy file {path}: {e.strerror}") from None
        return cls.from_text(text, tools, str(path), audit=audit)

    # -- facts --------------------------------------------------------------------
    @property
    def rules(self) -> list[dict[str, Any]]:
        """Each rule: name, action, obligation (a `require` rule), text, reason, line, column."""
        return [dict(r) for r in self._rules]

    @property
    def custom_events(self) -> list[str]:
        return list(self._policy.custom_events)

    @property
    def trace_length(self) -> int:
        return self._monitor.trace_length

    # -- judging ------------------------------------------------------------------
    def _verdict(self, native: tuple[int, int], event: Optional[GuardEvent]) -> Verdict:
        action, rule = native
        if rule < 0:
            return Verdict("allow", None, "", event)
        r = self._rules[rule]
        return Verdict(ACTIONS[action], r["name"], r["reason"], event)

    def _event(self, event: Any) -> GuardEvent:
        if not isinstance(event, GuardEvent):
            raise InvalidParameterError(f"expected a GuardEvent, got {type(event).__name__}")
        return event

    def check(self, event: GuardEvent) -> Verdict:
        """The verdict `event` would get as the next event; the trace is unchanged."""
        event = self._event(event)
        native = event._native()
        with self._lock:
            v = self._verdict(self._monitor.check(*native), event)
            self._log("check", v)
        return v

    def step(self, event: GuardEvent) -> Verdict:
        """Commits `event` to the trace; returns the verdict it had."""
        event = self._event(event)
        native = event._native()
        with self._lock:
            v = self._verdict(self._monitor.step(*native), event)
            self._log("step", v)
        return v

    def enforce(self, event: GuardEvent) -> Verdict:
        """check + step for events that must not happen when denied: raises GuardViolation
        on deny or stop (the trace is then unchanged); otherwise commits the event and
        returns its verdict (allow or confirm: the caller asks, before calling enforce)."""
        v = self.check(event)
        if v.action in ("deny", "stop"):
            raise GuardViolation(v)
        return self.step(event)

    def check_final(self) -> list[Verdict]:
        """Obligations (`require` rules) the current turn violates if it ends now."""
        with self._lock:
            verdicts = [self._verdict(n, None) for n in self._monitor.check_final()]
            for v in verdicts:
                self._log("final", v)
        return verdicts

    def allowed_tools(self, names: Iterable[str]) -> dict[str, str]:
        """For each tool: "allowed", "denied" (whatever the arguments) or "depends" (on the
        arguments), for a call as the next event. confirm rules do not deny."""
        names = [_name(n, "tool") for n in names]
        with self._lock:
            states = dict(zip(names, self._monitor.allowed_tools(names)))
            if self._audit is not None:
                self._write({"ts": time.time(), "op": "allowed_tools", "tools": states})
        return states

    def argument_constraints(self, tool: str) -> list[tuple[str, str, Any]]:
        """(argument, op, literal) constraints the next call of `tool` must meet for the
        argument-dependent deny/stop rules not to fire, where expressible per argument
        (op one of == in < <= > >= matches; `matches` literals are regex patterns)."""
        with self._lock:
            raw = self._monitor.argument_constraints(_name(tool, "tool"))
        return [(arg, op, json.loads(lit)) for arg, op, lit, _rule in raw]

    def narrow_schema(self, tool: str, parameters: Mapping[str, Any]) -> dict[str, Any]:
        """`parameters` (a tool's arguments JSON Schema) narrowed by argument_constraints:
        == → const, in → enum, bounds → minimum/maximum, matches → pattern. Constraints
        on arguments the schema does not describe, or that would clash, are left to the
        execution-time check."""
        schema = json.loads(json.dumps(parameters))
        props = schema.get("properties")
        if not isinstance(props, dict):
            return schema
        for arg, op, lit in self.argument_constraints(tool):
            prop = props.get(arg)
            if not isinstance(prop, dict) or any(k in prop for k in ("anyOf", "oneOf", "allOf", "$ref")):
                continue
            _narrow(prop, op, lit)
        return schema

    def reset(self) -> None:
        """Forgets the trace (a new conversation)."""
        with self._lock:
            self._monitor.reset()
            if self._audit is not None:
                self._write({"ts": time.time(), "op": "reset"})

    # -- audit ----------------------------------------------------------------------
    def _log(self, op: str, v: Verdict) -> None:
        if self._audit is not None:
            record = {"ts": time.time(), "op": op, **v.to_dict()}
            self._write(record)

    def _write(self, record: dict) -> None:
        assert self._audit is not None
        self._audit.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._audit.flush()

    def close(self) -> None:
        if self._audit is not None:
            self._audit.close()
            self._audit = None

    def __del__(self) -> None:  # an unclosed audit log is flushed already; release the handle
        try:
            self.close()
        except Exception:
            pass

    def __enter__(self) -> "Guard":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Guard({self.source!r}, rules={[r['name'] for r in self._rules]})"


def _narrow(prop: dict, op: str, lit: Any) -> None:
    """Adds one constraint to a property schema, only where it cannot clash."""
    if op == "==":
        if "const" not in prop and ("enum" not in prop or lit in prop["enum"]):
            prop.pop("enum", None)
            prop["const"] = lit
    elif op == "in":
        if "const" in prop:
            return
        values = [v for v in lit if "enum" not in prop or v in prop["enum"]]
        prop["enum"] = values
    elif op in ("<", "<=", ">", ">="):
        if not isinstance(lit, (int, float)) or isinstance(lit, bool) or not math.isfinite(lit):
            return
        key = {"<": "exclusiveMaximum", "<=": "maximum", ">": "exclusiveMinimum", ">=": "minimum"}[op]
        if key in prop:
            prop[key] = min(prop[key], lit) if key.endswith("aximum") else max(prop[key], lit)
        else:
            prop[key] = lit
    elif op == "matches":
        if "pattern" not in prop and prop.get("type") in ("string", None):
            prop["pattern"] = lit


def disabled_tools(guard: Guard, names: Sequence[str]) -> list[str]:
    """The tools a guard denies for every argument as the next call."""
    return [n for n, state in guard.allowed_tools(names).items() if state == "denied"]


@dataclass(frozen=True)
class DeniedCall:
    """A call the model made that the guard refused (deny or stop); Agent.call reports
    these in `CallResult.denied` instead of returning them as calls."""

    name: str
    arguments: dict[str, Any]
    verdict: Verdict

    def to_dict(self) -> dict[str, Any]:
        v = self.verdict
        return {"name": self.name, "arguments": self.arguments,
                "verdict": {"action": v.action, "rule": v.rule, "reason": v.reason}}


def narrowed_tool_schema(guard: Guard, schema: Mapping[str, Any]) -> dict[str, Any]:
    """An OpenAI tool dict (or bare function dict) with its parameters narrowed by the
    guard's argument predicates (see Guard.narrow_schema)."""
    fn = schema.get("function", schema)
    params = fn.get("parameters") if isinstance(fn, Mapping) else None
    if not isinstance(params, Mapping) or not isinstance(fn.get("name"), str):
        return dict(schema)
    narrowed = guard.narrow_schema(fn["name"], params)
    if narrowed == params:
        return dict(schema)
    if "function" in schema:
        return {**schema, "function": {**fn, "parameters": narrowed}}
    return {**schema, "parameters": narrowed}
