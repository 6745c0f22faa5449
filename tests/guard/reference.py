"""A deliberately simple reference evaluator of the guard semantics on finite traces.

Independent of the native monitor (no shared code, no incremental state): every
question is answered by recomputing the formula over the whole trace, straight from
the definitions in README.md ("Behaviour guards"). Formulas are tuples:

    ("true",) ("false",)
    ("atom", kind, tools, preds)      kind: user call result text final same_call or
                                      ("custom", name); tools: None (any) or a list;
                                      preds: [(path, op, literal)]
    ("not", f) ("and", f, g) ("or", f, g) ("implies", f, g)
    ("Y", f) ("O", f) ("H", f) ("S", f, g)             past: f S g
    ("count", f, g_or_None, cmp, n)                   count(f) since g cmp n
    ("X", f) ("F", f) ("G", f) ("U", f, g)             future: f U g

Events are dicts {"kind", "name", "value", "text"} (kind: user call result text final
custom). Rules are (name, action, "when" | "require", formula).
"""

from __future__ import annotations

import re
from typing import Any, Optional

SEVERITY = {"allow": 0, "confirm": 1, "deny": 2, "stop": 3}


def _cls(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    return "other"


def json_eq(v: Any, lit: Any) -> bool:
    """Scalar JSON equality: types must agree (true is not 1), numbers by value."""
    c = _cls(v)
    if c != _cls(lit) or c == "other":
        return False
    if c == "number":
        return float(v) == float(lit)
    return v == lit


def canon(v: Any) -> Any:
    if isinstance(v, dict):
        return ("o", tuple(sorted((k, canon(x)) for k, x in v.items())))
    if isinstance(v, list):
        return ("a", tuple(canon(x) for x in v))
    c = _cls(v)
    if c == "number":
        return ("n", float(v))
    return (c, v)


def strings_in(v: Any) -> list[str]:
    if isinstance(v, str):
        return [v]
    if isinstance(v, list):
        return [s for x in v for s in strings_in(x)]
    if isinstance(v, dict):
        return [s for x in v.values() for s in strings_in(x)]
    return []


def normal_parts(path: str) -> Optional[list[str]]:
    parts: list[str] = []
    for p in path.split("/"):
        if p == "..":
            if not parts:
                return None
            parts.pop()
        elif p not in ("", "."):
            parts.append(p)
    return parts


def is_under(value: str, prefix: str) -> bool:
    if value.startswith("/") != prefix.startswith("/"):
        return False
    v, p = normal_parts(value), normal_parts(prefix)
    return v is not None and p is not None and v[:len(p)] == p


_MISSING = object()


def field(value: Any, path: list[str]) -> Any:
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return _MISSING
        value = value[key]
    return value


def pred_holds(event: dict, kind: str, path: list[str], op: str, lit: Any) -> bool:
    if kind in ("call", "result"):
        if kind == "result" and path[0] == "value":
            v = field(event["value"], path[1:])
        else:
            v = field(event["value"], path)
        if v is _MISSING:
            return op == "!="
    else:
        v = event["text"]
    if op == "==":
        return json_eq(v, lit)
    if op == "!=":
        return not json_eq(v, lit)
    if op == "in":
        return any(json_eq(v, x) for x in lit)
    if op in ("<", "<=", ">", ">="):
        if _cls(v) != "number":
            return False
        a, b = float(v), float(lit)
        return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
    if op == "matches":
        return any(re.search(lit, s) for s in strings_in(v))
    if op == "under":
        return isinstance(v, str) and is_under(v, lit)
    raise ValueError(op)


def atom_holds(trace: list[dict], i: int, kind: Any, tools: Optional[list[str]], preds: list) -> bool:
    e = trace[i]
    if kind == "same_call":
        if e["kind"] != "call":
            return False
        previous = [x for x in trace[:i] if x["kind"] == "call"]
        return bool(previous) and previous[-1]["name"] == e["name"] and \
            canon(previous[-1]["value"]) == canon(e["value"])
    if isinstance(kind, tuple):  # ("custom", name)
        if e["kind"] != "custom" or e["name"] != kind[1]:
            return False
    elif e["kind"] != kind:
        return False
    if kind in ("call", "result") and tools is not None and e["name"] not in tools:
        return False
    k = kind if isinstance(kind, str) else "custom"
    return all(pred_holds(e, k, path, op, lit) for path, op, lit in preds)


def holds(f: tuple, trace: list[dict], i: int, end: int) -> bool:
    """f at position i; future operators look at positions up to `end`."""
    op = f[0]
    if op == "true":
        return True
    if op == "false":
        return False
    if op == "atom":
        return atom_holds(trace, i, f[1], f[2], f[3])
    if op == "not":
        return not holds(f[1], trace, i, end)
    if op == "and":
        return holds(f[1], trace, i, end) and holds(f[2], trace, i, end)
    if op == "or":
        return holds(f[1], trace, i, end) or holds(f[2], trace, i, end)
    if op == "implies":
        return (not holds(f[1], trace, i, end)) or holds(f[2], trace, i, end)
    if op == "Y":
        return i > 0 and holds(f[1], trace, i - 1, end)
    if op == "O":
        return any(holds(f[1], trace, j, end) for j in range(0, i + 1))
    if op == "H":
        return all(holds(f[1], trace, j, end) for j in range(0, i + 1))
    if op == "S":
        return any(holds(f[2], trace, j, end) and all(holds(f[1], trace, k, end) for k in range(j + 1, i + 1))
                   for j in range(0, i + 1))
    if op == "count":
        _, g, reset, cmp, n = f
        last = max([j for j in range(0, i + 1) if holds(reset, trace, j, end)], default=-1) if reset else -1
        c = sum(1 for j in range(last + 1, i + 1) if holds(g, trace, j, end))
        return {"==": c == n, "!=": c != n, "<": c < n, "<=": c <= n, ">": c > n, ">=": c >= n}[cmp]
    if op == "X":
        return i < end and holds(f[1], trace, i + 1, end)
    if op == "F":
        return any(holds(f[1], trace, j, end) for j in range(i, end + 1))
    if op == "G":
        return all(holds(f[1], trace, j, end) for j in range(i, end + 1))
    if op == "U":
        return any(holds(f[2], trace, j, end) and all(holds(f[1], trace, k, end) for k in range(i, j))
                   for j in range(i, end + 1))
    raise ValueError(op)


def check(rules: list, trace: list[dict], event: dict) -> tuple[str, Optional[str]]:
    """The verdict of `event` as the next event: the most severe `when` rule that holds
    (the first one on ties), or allow."""
    t = trace + [event]
    best = ("allow", None)
    for name, action, form, f in rules:
        if form == "when" and holds(f, t, len(t) - 1, len(t) - 1) and SEVERITY[action] > SEVERITY[best[0]]:
            best = (action, name)
    return best


def check_final(rules: list, trace: list[dict]) -> list[tuple[str, str]]:
    """The `require` rules the current turn (from the last user event) violates."""
    if not trace:
        return []
    start = max([i for i, e in enumerate(trace) if e["kind"] == "user"], default=0)
    end = len(trace) - 1
    return [(action, name) for name, action, form, f in rules
            if form == "require" and not holds(f, trace, start, end)]
