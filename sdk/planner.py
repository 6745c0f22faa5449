"""`Planner`: the model writes a whole plan of tool calls in one constrained pass.

LLMCompiler-style: the plan is a JSON list of calls, and an argument may take the
result of an EARLIER call by reference, `"$2"` (the whole result) or `"$2.email"` (a
field of it). The grammar is a JSON Schema built per position: step i may call only
the tools offered, with arguments valid for that tool's schema, and its references
may only name steps 1..i-1. So every plan the model can write is well-formed; the
executor (`edgeagent.executor`) turns the references into a DAG and runs it.

    planner = Planner(engine)
    plan = planner.plan(messages, tools)        # -> Plan([Step(1, "find_contact", {...}), ...])
"""

from __future__ import annotations

import copy
import json
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Optional, Sequence

from .engine import Engine, Generation
from .errors import DecodeError, InvalidParameterError
from .formats import conform_dates
from .grammar import Grammar
from .grounding import QueryFacts, conversation_facts, grounded_arguments, leaf_values, words_in
from .tool import Tool

__all__ = ["Planner", "Plan", "Step", "plan_schema", "REFERENCE", "references_in"]

#: A reference to an earlier step's result: $k or $k.field.sub (list indices as digits).
REFERENCE = re.compile(r"\$(\d+)((?:\.[A-Za-z0-9_]+)*)")
_WHOLE_REFERENCE = re.compile(r"^\$(\d+)((?:\.[A-Za-z0-9_]+)*)$")

# A literal string argument: anything but a whole reference ("$5 budget" is fine, "$5"
# and "$5.email" are not), so step i cannot refer to itself or a later step.
_NOT_A_REFERENCE = (r"^([^$][\s\S]*|\$|\$[^0-9][\s\S]*|"
                    r"\$[0-9]+(\.[A-Za-z0-9_]+)*([^.A-Za-z0-9_][\s\S]*|\.([^A-Za-z0-9_][\s\S]*)?))?$")


@dataclass(frozen=True)
class Step:
    index: int  # as references name it: a plan counts from 1 (0: a lookup the assistant made before it)
    tool: str
    arguments: dict[str, Any]

    def depends_on(self) -> set[int]:
        """Earlier steps whose results this one takes ("$k" in text naming no earlier step is literal)."""
        return {k for k in references_in(self.arguments) if 1 <= k < self.index}

    def to_dict(self) -> dict[str, Any]:
        return {"step": self.index, "name": self.tool, "arguments": self.arguments}


@dataclass
class Plan:
    steps: list[Step]
    generation: Optional[Generation] = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.steps)

    def to_dict(self) -> dict[str, Any]:
        return {"steps": [s.to_dict() for s in self.steps]}


def references_in(value: Any) -> set[int]:
    """The step numbers a (nested) argument value refers to."""
    if isinstance(value, str):
        return {int(m.group(1)) for m in REFERENCE.finditer(value)}
    if isinstance(value, dict):
        return set().union(*(references_in(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(references_in(v) for v in value)) if value else set()
    return set()


def _forbid_references(schema: dict) -> dict:
    """`schema` where a free string may not be a `$k` reference (a literal, then)."""
    if isinstance(schema.get("anyOf"), list):
        schema["anyOf"] = [_forbid_references(dict(m)) if isinstance(m, dict) else m for m in schema["anyOf"]]
        return schema
    kinds = schema.get("type")
    is_string = kinds == "string" or (isinstance(kinds, list) and "string" in kinds)
    if is_string and not any(k in schema for k in ("pattern", "enum", "const", "format")):
        schema["pattern"] = _NOT_A_REFERENCE  # applies to strings only, so type lists keep the rest
    return schema


def _reference_schema(step: int) -> dict:
    earlier = "|".join(str(k) for k in range(1, step))
    return {"type": "string", "pattern": rf"^\$({earlier})(\.[A-Za-z0-9_]+)*$"}


def _value_schema(schema: dict, step: int) -> dict:
    value = _forbid_references(copy.deepcopy(schema))
    if step == 1:
        return value
    description = value.pop("description", None)
    out: dict[str, Any] = {"anyOf": [value, _reference_schema(step)]}
    if description:
        out["description"] = description
    return out


def _call_schema(tool: Tool, step: int) -> dict:
    params = copy.deepcopy(tool.parameters) or {"type": "object", "properties": {}}
    props = params.get("properties") or {}
    params["properties"] = {name: _value_schema(s, step) if isinstance(s, dict) else s
                            for name, s in props.items()}
    if props and not params.get("required"):
        # Every argument optional: a small model then tends to write {} and stop. A call
        # in a plan must say at least one thing, so one of the arguments is required.
        params = {"anyOf": [dict(params, required=[name]) for name in props]}
    return {"type": "object", "properties": {"name": {"const": tool.name}, "arguments": params},
            "required": ["name", "arguments"]}


def plan_schema(tools: Sequence[Tool], max_steps: int, min_steps: int = 1, first_step: int = 1) -> dict:
    """The JSON Schema of a plan over `tools` with `min_steps`..`max_steps` calls, numbered
    from `first_step` (calls made before the plan are the steps below it: "$1" may name one)."""
    if not tools:
        raise InvalidParameterError("a plan needs at least one tool")
    if not 1 <= max_steps <= 9:
        raise InvalidParameterError(f"max_steps must be between 1 and 9, got {max_steps}")
    if not isinstance(first_step, int) or first_step < 1:
        raise InvalidParameterError(f"first_step must be a positive integer, got {first_step!r}")
    positions = []
    for i in range(first_step, first_step + max_steps):
        calls = [_call_schema(t, i) for t in tools]
        positions.append(calls[0] if len(calls) == 1 else {"anyOf": calls})
    min_steps = max(1, min(min_steps, max_steps))
    return {"type": "array", "prefixItems": positions, "items": False, "minItems": min_steps,
            "maxItems": max_steps}


PLAN_INSTRUCTIONS = (
    "Plan the tool calls that carry out the user's request, all at once, as a JSON list in the order they "
    "run: [{\"name\": <tool name>, \"arguments\": {...}}, ...]. A request often needs several calls: make "
    "one call for each thing the user asks for, and no other. To use the result of an earlier call as an "
    "argument, write \"$N\" for the result of call N, or \"$N.field\" for one field of it. Copy names and "
    "text from the request; write dates and times as ISO 8601 (2025-03-14T15:00), taking the date of a "
    "weekday from the list of days above.\n"
    "Example (other tools): \"Look up the price of a bike and put it in my budget, and tell Sam\" -> "
    "[{\"name\": \"get_price\", \"arguments\": {\"item\": \"bike\"}}, "
    "{\"name\": \"add_to_budget\", \"arguments\": {\"item\": \"bike\", \"amount\": \"$1.price\"}}, "
    "{\"name\": \"send_text\", \"arguments\": {\"to\": \"Sam\", \"text\": \"The bike costs $1.price\"}}]"
)


class Planner:
    """Writes plans with one model; grammars are cached per tool set."""

    def __init__(self, engine: Engine, *, max_steps: int = 6, max_tokens: int = 640):
        self.engine = engine
        self.max_steps = max_steps
        self.max_tokens = max_tokens
        self._grammars: "OrderedDict[str, Grammar]" = OrderedDict()

    def grammar(self, tools: Sequence[Tool], min_steps: int = 1, first_step: int = 1) -> Grammar:
        key = json.dumps([[[t.name, t.parameters] for t in tools], min_steps, first_step], sort_keys=True)
        g = self._grammars.get(key)
        if g is None:
            g = Grammar.from_json_schema(plan_schema(tools, self.max_steps, min_steps, first_step))
            self._grammars[key] = g
            if len(self._grammars) > 32:
                self._grammars.popitem(last=False)
        else:
            self._grammars.move_to_end(key)
        return g

    def plan(self, messages: Sequence[dict], tools: Sequence[Tool], *, min_steps: int = 1, first_step: int = 1,
             ground: bool = True, **options: Any) -> Plan:
        """A plan for the conversation `messages` (its last user turn) over `tools`, of at
        least `min_steps` calls (e.g. one per clause of the request), numbered from
        `first_step` (the calls below it were made already; the plan may refer to them). `ground`: leave out
        optional arguments that neither the user's words nor the tool results mention
        (grounding.grounded_arguments; arguments with $N references stay)."""
        tools = list(tools)
        schemas = [t.schema for t in tools]
        out = self.engine.chat(list(messages), tools=schemas, grammar=self.grammar(tools, min_steps, first_step),
                               max_tokens=options.pop("max_tokens", self.max_tokens), **options)
        if out.finish_reason != "eos":
            raise DecodeError(f"the plan was cut off after {out.timings.generated_tokens} tokens "
                              f"({out.finish_reason}); raise max_tokens")
        data = json.loads(out.text)
        steps = []
        by_name = {t.name: t for t in tools}
        facts = conversation_facts(messages) if ground else None
        examples = _unsaid_examples(tools, messages) if ground else set()
        for i, call in enumerate(data, start=first_step):
            tool = by_name[call["name"]]  # the grammar allows only these; a KeyError here is a bug
            arguments = call["arguments"]
            if facts is not None:
                arguments = _without_examples(arguments, tool, examples)
                if arguments is None:
                    continue  # a call made up from the documentation (add_contact "Ana López")
                arguments = _grounded(arguments, tool, facts)
            steps.append(Step(i, call["name"], arguments))
        return Plan(steps, out)


_EXAMPLES = re.compile(r'e\.g\.,?\s*((?:"[^"]+"(?:,\s*|\s+or\s+)?)+)')  # e.g. "mile", "kg" or "cup"
_QUOTED = re.compile(r'"([^"]+)"')
_DATE_WORDS = re.compile(r"\d{4} \d{2} \d{2}")  # an ISO date as words_in writes it


def _unsaid_examples(tools: Sequence[Tool], messages: Sequence[dict]) -> set[str]:
    """The example values the tools' descriptions quote after "e.g." ('Full name, e.g.
    "Ana López"') that the conversation does not state, as lowercase words. The 0.5B model
    copies them into calls the request never asked for. Only examples of two or more words
    or with a digit: a one-word example ("kg", "pasta") is too often what the user says too."""
    said = conversation_facts(messages, times=True).text
    out = set()
    for t in tools:
        properties = (t.parameters or {}).get("properties") or {}
        texts = [t.description] + [p.get("description", "") for p in properties.values() if isinstance(p, dict)]
        for listed in _EXAMPLES.finditer(" ".join(str(x) for x in texts)):
            for m in _QUOTED.finditer(listed.group(1)):
                words = words_in(m.group(1))
                key = " ".join(words)
                if (len(m.group(1).split()) > 1 or any(c.isdigit() for c in key)) and f" {key} " not in said:
                    out.add(key)
    return out


def _is_example(value: Any, examples: set[str]) -> bool:
    """Whether `value` holds an example: as it is, or a dated one with another time
    ("2025-03-14T15:30" from the example "2025-03-14")."""
    for x in leaf_values(value):
        if isinstance(x, str):
            key = " ".join(words_in(x))
            if key in examples or any(_DATE_WORDS.match(e) and key.startswith(e[:10]) for e in examples):
                return True
    return False


def _without_examples(arguments: dict, tool: Tool, examples: set[str]) -> Optional[dict]:
    """`arguments` without those that hold one of `examples`; None if a required one does."""
    copied = {k for k, v in arguments.items() if _is_example(v, examples)}
    if copied & set((tool.parameters or {}).get("required") or []):
        return None
    return {k: v for k, v in arguments.items() if k not in copied}


def _grounded(arguments: dict, tool: Tool, facts: QueryFacts) -> dict:
    # A "$N" reference is a value from an earlier call, not from the user's words: kept.
    plain = {k: v for k, v in arguments.items() if not references_in(v)}
    kept = conform_dates(grounded_arguments(plain, tool.parameters or {}, facts), tool.parameters or {})
    out = {}
    for k, v in arguments.items():  # in the model's order
        if k not in plain:
            out[k] = v
        elif k in kept:
            out[k] = kept[k]
    return out
