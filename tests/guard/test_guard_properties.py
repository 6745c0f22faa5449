"""Property tests: the native monitor agrees with the reference evaluator (reference.py)
on random policies x random traces, and its lookahead and schema narrowing are sound.

Case count: test_monitor_agrees_with_reference runs 3,500 random policies, each on 3
random traces (10,500 policy x trace cases; every event's verdict and the turn's
obligations are compared); the lookahead test adds 1,500 more.
"""

from __future__ import annotations

import json

import jsonschema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edgeagent import Guard, GuardEvent

from . import reference as ref

TOOLS = ["a", "b", "c"]
ALL_TOOLS = TOOLS + ["d"]  # "d" is never named by a policy
CUSTOMS = ["thought", "action"]
KEYS = ["x", "y"]
REGEXES = ["a", "b+", "^a", "b$", "a|y", "[ab]y", "a.b", "^$", "x?y", "^[a-c]*$"]
PATHS = ["a", "a/b", "/a", "./a", "a/../b", "b", "a/"]
STRINGS = ["a", "b", "ab", "xy", "a/b", "/a", "a/../b", "", "bb", "ay"]

SETTINGS = dict(deadline=None, suppress_health_check=list(HealthCheck), database=None)

scalars = st.one_of(st.integers(-2, 2), st.sampled_from([0.5, 1.0, -1.5]), st.booleans(), st.none(),
                    st.sampled_from(STRINGS))
values = st.one_of(scalars, st.lists(st.sampled_from(STRINGS), max_size=2),
                   st.dictionaries(st.sampled_from(KEYS), scalars, max_size=2))
arg_dicts = st.dictionaries(st.sampled_from(KEYS), st.one_of(scalars, st.lists(st.sampled_from(STRINGS), max_size=2)),
                            max_size=2)


@st.composite
def literal_for(draw, op):
    if op in ("<", "<=", ">", ">="):
        return draw(st.one_of(st.integers(-2, 2), st.sampled_from([0.5, -1.5])))
    if op == "in":
        return draw(st.lists(scalars, min_size=1, max_size=3))
    if op == "matches":
        return draw(st.sampled_from(REGEXES))
    if op == "under":
        return draw(st.sampled_from(PATHS))
    return draw(scalars)


@st.composite
def preds(draw, kind):
    out = []
    for _ in range(draw(st.integers(0, 2))):
        op = draw(st.sampled_from(["==", "!=", "<", "<=", ">", ">=", "in", "matches", "under"]))
        if kind in ("call", "result"):
            path = draw(st.sampled_from([["x"], ["y"], ["x", "y"]] + ([["value"]] if kind == "result" else [])))
        else:
            path = ["text"]
            if op in ("<", "<=", ">", ">="):
                op = "=="
        out.append((path, op, draw(literal_for(op))))
    return out


@st.composite
def atoms(draw):
    kind = draw(st.sampled_from(["user", "call", "call", "result", "text", "final", "same_call", "custom"]))
    if kind == "custom":
        return ("atom", ("custom", draw(st.sampled_from(CUSTOMS))), None, [])
    if kind == "same_call":
        return ("atom", "same_call", None, [])
    tools = None
    if kind in ("call", "result") and draw(st.booleans()):
        tools = sorted(set(draw(st.lists(st.sampled_from(TOOLS), min_size=1, max_size=2))))
    ps = draw(preds(kind)) if kind != "final" or draw(st.booleans()) else []
    return ("atom", kind, tools, ps)


@st.composite
def past(draw, depth=3):
    if depth == 0 or draw(st.integers(0, 3)) == 0:
        return draw(st.one_of(atoms(), atoms(), st.sampled_from([("true",), ("false",)])))
    op = draw(st.sampled_from(["not", "and", "or", "implies", "Y", "O", "H", "S", "count"]))
    if op in ("not", "Y", "O", "H"):
        return (op, draw(past(depth - 1)))
    if op == "count":
        reset = draw(st.one_of(st.none(), past(depth - 1)))
        return ("count", draw(past(depth - 1)), reset, draw(st.sampled_from(["==", "!=", "<", "<=", ">", ">="])),
                draw(st.integers(0, 3)))
    return (op, draw(past(depth - 1)), draw(past(depth - 1)))


@st.composite
def future(draw, depth=3):
    if depth == 0 or draw(st.integers(0, 3)) == 0:
        return draw(past(1))
    op = draw(st.sampled_from(["X", "F", "G", "U", "not", "and", "or", "implies"]))
    if op in ("X", "F", "G", "not"):
        return (op, draw(future(depth - 1)))
    return (op, draw(future(depth - 1)), draw(future(depth - 1)))


def render_literal(v) -> str:
    if isinstance(v, list):
        return "[" + ", ".join(render_literal(x) for x in v) + "]"
    return json.dumps(v)


def render(f) -> str:
    op = f[0]
    if op in ("true", "false"):
        return op
    if op == "atom":
        _, kind, tools, ps = f
        if isinstance(kind, tuple):
            return kind[1]
        if kind == "same_call":
            return "same_call"
        parts = []
        for path, pop, lit in ps:
            rhs = f"/{lit}/" if pop == "matches" else render_literal(lit)
            parts.append(f"{'.'.join(path)} {pop} {rhs}")
        if kind in ("call", "result"):
            if tools is None and not parts:
                return kind
            sel = "*" if tools is None else tools[0] if len(tools) == 1 else "{" + ", ".join(tools) + "}"
            return f"{kind}({', '.join([sel] + parts)})"
        return f"{kind}({', '.join(parts)})" if parts else kind
    if op == "not":
        return f"!({render(f[1])})"
    if op in ("and", "or", "implies"):
        sym = {"and": "&", "or": "|", "implies": "->"}[op]
        return f"({render(f[1])}) {sym} ({render(f[2])})"
    if op in ("Y", "O", "H", "X", "F", "G"):
        return f"{op} ({render(f[1])})"
    if op in ("S", "U"):
        return f"({render(f[1])}) {op} ({render(f[2])})"
    if op == "count":
        since = f" since ({render(f[2])})" if f[2] is not None else ""
        return f"count({render(f[1])}){since} {f[3]} {f[4]}"
    raise ValueError(op)


@st.composite
def policies(draw, max_require=2):
    rules = []
    for i in range(draw(st.integers(1, 3))):
        rules.append((f"w{i}", draw(st.sampled_from(["deny", "confirm", "stop"])), "when", draw(past())))
    for i in range(draw(st.integers(0, max_require))):
        rules.append((f"r{i}", draw(st.sampled_from(["deny", "confirm", "stop"])), "require", draw(future())))
    text = "event thought, action;\n" + "\n".join(
        f"rule {name}: {action} {form} {render(f)}" for name, action, form, f in rules) + "\n"
    return rules, text


@st.composite
def events(draw):
    kind = draw(st.sampled_from(["user", "call", "call", "call", "result", "text", "final", "custom"]))
    if kind == "call":
        return {"kind": "call", "name": draw(st.sampled_from(ALL_TOOLS)), "value": draw(arg_dicts), "text": ""}
    if kind == "result":
        return {"kind": "result", "name": draw(st.sampled_from(ALL_TOOLS)), "value": draw(values), "text": ""}
    if kind == "custom":
        return {"kind": "custom", "name": draw(st.sampled_from(CUSTOMS + ["other"])), "value": None,
                "text": draw(st.sampled_from(STRINGS))}
    return {"kind": kind, "name": "", "value": None, "text": draw(st.sampled_from(STRINGS))}


def to_event(e: dict) -> GuardEvent:
    k = e["kind"]
    if k == "call":
        return GuardEvent.call(e["name"], e["value"])
    if k == "result":
        return GuardEvent.result(e["name"], e["value"])
    if k == "custom":
        return GuardEvent.custom(e["name"], e["text"])
    return getattr(GuardEvent, k)(e["text"])


def finals(guard: Guard) -> list[tuple[str, str]]:
    return [(v.action, v.rule) for v in guard.check_final()]


@settings(max_examples=3500, **SETTINGS)
@given(policies(), st.lists(st.lists(events(), max_size=10), min_size=3, max_size=3))
def test_monitor_agrees_with_reference(policy, traces):
    rules, text = policy
    guard = Guard.from_text(text)
    for trace in traces:
        guard.reset()
        seen: list[dict] = []
        for e in trace:
            v = guard.check(to_event(e))
            assert (v.action, v.rule) == ref.check(rules, seen, e), (text, seen, e)
            guard.step(to_event(e))
            seen.append(e)
            assert finals(guard) == ref.check_final(rules, seen), (text, seen)


@settings(max_examples=1500, **SETTINGS)
@given(policies(max_require=0), st.lists(events(), max_size=8), st.lists(arg_dicts, min_size=1, max_size=4))
def test_lookahead_and_narrowing_are_sound(policy, trace, candidates):
    """'denied' means every call of the tool is denied, 'allowed' that none is; an allowed
    call always fits the argument schema narrowed by the policy."""
    rules, text = policy
    guard = Guard.from_text(text)
    open_schema = {"type": "object", "properties": {k: {} for k in KEYS}}
    seen: list[dict] = []
    for e in trace + [None]:
        states = guard.allowed_tools(ALL_TOOLS)
        for tool in ALL_TOOLS:
            narrowed = guard.narrow_schema(tool, open_schema)
            for args in candidates:
                action, _ = ref.check(rules, seen, {"kind": "call", "name": tool, "value": args, "text": ""})
                denied = action in ("deny", "stop")
                if states[tool] == "denied":
                    assert denied, (text, seen, tool, args)
                elif states[tool] == "allowed":
                    assert not denied, (text, seen, tool, args)
                if not denied:
                    jsonschema.validate(args, narrowed)
        if e is not None:
            guard.step(to_event(e))
            seen.append(e)


TOKENS = ["rule", "r", "s:", ":", "deny", "stop", "confirm", "when", "require", "because", "\"x\"", "event", "tag",
          "call", "result", "(", ")", "{", "}", "[", "]", ",", "*", "a", "b", "x", "==", "!=", "<", ">=", "in",
          "matches", "/a+/", "/(/", "under", "\"a/b\"", "1", "-2.5", "1e400", "true", "null", "!", "&", "|", "->",
          "Y", "O", "H", "S", "F", "G", "X", "U", "count", "since", "same_call", "user", "final", "text", "thought",
          "tagged", "=", ";", "#c\n", "\n", "\"", "/", "é", "\x00", "$"]


@settings(max_examples=1500, **SETTINGS)
@given(st.lists(st.sampled_from(TOKENS), max_size=30), st.text(max_size=20))
def test_hostile_policies_fail_cleanly(tokens, noise):
    """Any text either compiles or raises GuardPolicyError with a position inside it."""
    from edgeagent.errors import GuardPolicyError

    text = "event thought;\n" + " ".join(tokens) + noise
    try:
        guard = Guard.from_text(text, source="fuzz.ltl")
    except GuardPolicyError as e:
        lines = text.split("\n")
        assert 1 <= e.line <= len(lines) and 1 <= e.column <= len(lines[e.line - 1]) + 1, (text, str(e))
        assert str(e).startswith(f"fuzz.ltl:{e.line}:{e.column}: ")
        return
    guard.check(GuardEvent.call("a", {"x": 1}))
    guard.check_final()
