"""BFCL evaluation, the model-independent half: data, tool schemas, scoring, reports.

The Berkeley Function Calling Leaderboard (BFCL) gives each item a query, the
functions offered and the accepted calls. This module loads those records, turns
BFCL's function schemas into OpenAI-style tools with valid JSON Schema, scores
predicted calls with BFCL's public AST rules, and writes/reads predictions and the
per-category summary. It knows nothing about models: the caller produces the calls.

Scoring (BFCL's ``ast_checker``, re-implemented):
  * simple, multiple: exactly as many calls as expected (one); the call must name the
    expected function.
  * parallel, parallel_multiple: the same number of calls as expected, matched one to
    one in any order.
  * irrelevance: pass iff no call is made.
  * one call against one expected call: every required parameter present; no parameter
    outside the schema or absent from the expected call; each value of the right type
    (an int is accepted where a float is expected; a value of the ground truth's own
    type is accepted too, BFCL's "variable" rule); each value among the accepted
    values; a parameter may be left out only when ``""`` is among its accepted values.
  * strings compare after BFCL's normalisation (``normalize_string``); lists compare
    element-wise and objects key-wise, each object key against its own accepted list.

Where this deliberately differs from BFCL:
  * parallel matching is a maximum bipartite matching; BFCL matches greedily, so it
    can fail a correct answer whose calls come in an unlucky order (dev item
    parallel_178 is one). Every answer BFCL passes still passes.
  * normalisation and the int-as-float rule apply at every depth (BFCL: one level),
    so e.g. ``[1, 2]`` passes for a list of floats ``[1.0, 2.0]``. More lenient.
  * a JSON boolean never equals a number (Python's ``True == 1`` would let ``true``
    pass for ``1`` inside lists and objects). Stricter.
  * BFCL treats a value whose type is the ground truth's, not the schema's, as a
    "variable" and compares it exactly; strings here are normalised all the same.

Kept from BFCL although it looks accidental: ``[]`` passes where ``""`` (may be
omitted) is accepted, because BFCL's list checker turns ``""`` into an empty list.

Function names are kept as BFCL writes them, dots included (``math.factorial``):
the tool name, the ground truth and the calls all use the same string, so there is
no mapping to undo. A backend that needs ``^[a-zA-Z0-9_-]+$`` names must map them
itself and map the calls back before scoring.
"""

from __future__ import annotations

import json
import math
import os
import re
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from edgeagent.errors import UserInputError
from edgeagent.tools._atomic import atomic_write_text

__all__ = [
    "CATEGORIES",
    "BfclItem",
    "ScoreResult",
    "Prediction",
    "ItemResult",
    "canonical_category",
    "load_category",
    "bfcl_function_to_tool",
    "normalize_string",
    "score_item",
    "score_predictions",
    "reference_calls",
    "summarize",
    "write_predictions",
    "read_predictions",
]

CATEGORIES = (
    "simple_python",
    "multiple",
    "parallel",
    "parallel_multiple",
    "irrelevance",
    "live_simple",
    "live_multiple",
    "live_parallel",
    "live_parallel_multiple",
    "live_irrelevance",
)

# BFCL v3 called simple_python just "simple".
_CATEGORY_ALIASES = {"simple": "simple_python"}


# ---------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BfclItem:
    """One BFCL record, ready to run and to score."""

    id: str
    category: str  # canonical name, e.g. "simple_python"
    messages: list[dict]  # the chat messages of every turn, in order
    functions: list[dict]  # BFCL's schemas as they are in the file
    tools: list[dict]  # OpenAI-style tools made from `functions`
    ground_truth: list[dict] | None  # [{name: {param: [accepted values]}}]; None for irrelevance


@dataclass(frozen=True)
class ScoreResult:
    ok: bool
    reason: str  # "" when ok; otherwise why the answer missed, e.g. "parallel: 2 calls expected, 1 made"


@dataclass(frozen=True)
class Prediction:
    """What a runner produced for one item: the calls made and the time taken."""

    id: str
    calls: list[dict]  # [{"name": str, "arguments": dict}]
    latency_s: float | None = None


@dataclass(frozen=True)
class ItemResult:
    """One prediction scored against its item."""

    id: str
    category: str
    ok: bool
    reason: str
    latency_s: float | None


# ---------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------


def canonical_category(category: str) -> str:
    """The canonical category name (``simple`` → ``simple_python``); unknown names are refused."""
    name = _CATEGORY_ALIASES.get(category, category)
    if name not in CATEGORIES:
        known = ", ".join(CATEGORIES + tuple(_CATEGORY_ALIASES))
        raise UserInputError(f"unknown BFCL category {category!r}; known: {known}")
    return name


def _jsonl_records(path: Path) -> Iterator[tuple[int, str, Any]]:
    """(line number, "file:line", parsed record) for each non-blank line of a JSONL file;
    a line that is not UTF-8 or not JSON raises UserInputError naming file and line."""
    with path.open("rb") as f:
        for line_no, raw in enumerate(f, start=1):
            where = f"{path}:{line_no}"
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise UserInputError(f"{where}: not UTF-8 text ({e.reason} at byte {e.start})") from None
            if not line.strip():
                continue
            try:
                yield line_no, where, json.loads(line)
            except json.JSONDecodeError as e:
                raise UserInputError(f"{where}: not valid JSON: {e.msg} (column {e.colno})") from None


def load_category(data_dir: str | os.PathLike, category: str) -> list[BfclItem]:
    """Read every record of ``<data_dir>/<category>.jsonl``.

    Raises UserInputError naming the file, the line and what is wrong for a missing
    file, invalid JSON or a record that does not have BFCL's shape.
    """
    name = canonical_category(category)
    directory = Path(data_dir)
    candidates = [directory / f"{name}.jsonl"]
    if category != name:
        candidates.append(directory / f"{category}.jsonl")
    path = next((p for p in candidates if p.is_file()), None)
    if path is None:
        raise UserInputError(f"BFCL category {name!r}: no file {candidates[0]}")

    items: list[BfclItem] = []
    first_line_of: dict[str, int] = {}
    for line_no, where, record in _jsonl_records(path):
        item = _item_from_record(record, name, where)
        if item.id in first_line_of:
            raise UserInputError(
                f"{where}: duplicate id {item.id!r} (first on line {first_line_of[item.id]})"
            )
        first_line_of[item.id] = line_no
        items.append(item)
    if not items:
        raise UserInputError(f"{path}: no records")
    return items


def _item_from_record(record: Any, category: str, where: str) -> BfclItem:
    if not isinstance(record, dict):
        raise UserInputError(f"{where}: a record must be a JSON object, got {_kind(record)}")
    for key in ("id", "question", "function"):
        if key not in record:
            raise UserInputError(f"{where}: missing key {key!r}")
    item_id = record["id"]
    if not isinstance(item_id, str) or not item_id:
        raise UserInputError(f"{where}: 'id' must be a non-empty string, got {item_id!r}")
    where = f"{where} (id {item_id})"

    messages = _flatten_turns(record["question"], where)

    functions = record["function"]
    if not isinstance(functions, list) or not functions:
        raise UserInputError(f"{where}: 'function' must be a non-empty list of function schemas")
    tools = []
    for i, fn in enumerate(functions):
        try:
            tools.append(bfcl_function_to_tool(fn))
        except UserInputError as e:
            raise UserInputError(f"{where}: function {i}: {e}") from None
    names = [t["function"]["name"] for t in tools]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise UserInputError(f"{where}: duplicate function names {duplicates}")

    if "irrelevance" in category:
        ground_truth = None  # pass = no call; a stray key is ignored
    elif "ground_truth" not in record:
        raise UserInputError(f"{where}: missing key 'ground_truth' (required outside irrelevance)")
    else:
        ground_truth = _checked_ground_truth(record["ground_truth"], set(names), where)

    return BfclItem(item_id, category, messages, functions, tools, ground_truth)


def _flatten_turns(question: Any, where: str) -> list[dict]:
    if not isinstance(question, list) or not question:
        raise UserInputError(f"{where}: 'question' must be a non-empty list of turns")
    messages = []
    for t, turn in enumerate(question):
        if not isinstance(turn, list):
            raise UserInputError(f"{where}: question turn {t} must be a list of messages, got {_kind(turn)}")
        for m, message in enumerate(turn):
            if (
                not isinstance(message, dict)
                or not isinstance(message.get("role"), str)
                or not isinstance(message.get("content"), str)
            ):
                raise UserInputError(
                    f"{where}: question turn {t} message {m} must be an object with string 'role' and 'content'"
                )
            messages.append(dict(message))
    if not messages:
        raise UserInputError(f"{where}: 'question' holds no message")
    return messages


def _checked_ground_truth(ground_truth: Any, function_names: set[str], where: str) -> list[dict]:
    if not isinstance(ground_truth, list) or not ground_truth:
        raise UserInputError(f"{where}: 'ground_truth' must be a non-empty list of expected calls")
    for i, expected in enumerate(ground_truth):
        if not isinstance(expected, dict) or len(expected) != 1:
            raise UserInputError(
                f"{where}: ground_truth[{i}] must be an object with exactly one function name"
            )
        (name, params), = expected.items()
        if name not in function_names:
            raise UserInputError(f"{where}: ground_truth[{i}] names {name!r}, which is not among the functions")
        if not isinstance(params, dict):
            raise UserInputError(f"{where}: ground_truth[{i}] {name!r}: parameters must be an object")
        for param, accepted in params.items():
            if not isinstance(accepted, list) or not accepted:
                raise UserInputError(
                    f"{where}: ground_truth[{i}] {name!r}: {param!r} must be a non-empty list of accepted values"
                )
    return ground_truth


# ---------------------------------------------------------------------------
# Schema conversion
# ---------------------------------------------------------------------------

# BFCL type name -> JSON Schema type name; None means "any value" (no type keyword).
_BFCL_TYPES = {
    "dict": "object",
    "float": "number",
    "tuple": "array",
    "any": None,
    "object": "object",
    "number": "number",
    "array": "array",
    "integer": "integer",
    "string": "string",
    "boolean": "boolean",
    "null": "null",
}

# JSON Schema keywords whose value is not a schema: copied as they are.
_PLAIN_KEYWORDS = {
    "required", "enum", "const", "default", "title", "examples",
    "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
    "minLength", "maxLength", "pattern", "format",
    "minItems", "maxItems", "uniqueItems", "minProperties", "maxProperties",
}

# BFCL's own "optional" marker repeats what `required` already says: dropped.
_DROPPED_KEYS = {"optional"}


def bfcl_function_to_tool(fn: Mapping) -> dict:
    """A BFCL function schema as an OpenAI-style tool whose parameters are JSON Schema.

    Types: dict→object, float→number, tuple→array, any→no type constraint; the others
    keep their name. Unknown type names are refused (UserInputError). Keys that are not
    JSON Schema keywords are appended to the description as ``(key: value)`` so the
    model still sees them, except BFCL's ``optional``, which `required` already says.
    """
    if not isinstance(fn, Mapping):
        raise UserInputError(f"a function schema must be a JSON object, got {_kind(fn)}")
    name = fn.get("name")
    if not isinstance(name, str) or not name:
        raise UserInputError(f"a function needs a non-empty string 'name', got {name!r}")
    description = fn.get("description", "")
    if not isinstance(description, str):
        raise UserInputError(f"function {name!r}: 'description' must be a string")
    params = fn.get("parameters", {"type": "dict", "properties": {}})
    parameters = _convert_schema(params, f"function {name!r}: parameters")
    if parameters.get("type", "object") != "object":
        raise UserInputError(
            f"function {name!r}: parameters must have type 'dict', got {params.get('type')!r}"
        )
    # A tool's parameters are always an object, even where BFCL leaves the type out.
    parameters = {"type": "object", "properties": {}, **parameters}
    return {
        "type": "function",
        "function": {"name": name, "description": description, "parameters": parameters},
    }


def _convert_schema(schema: Any, where: str) -> dict:
    if not isinstance(schema, Mapping):
        raise UserInputError(f"{where}: a schema must be a JSON object, got {_kind(schema)}")
    out: dict[str, Any] = {}
    notes = []
    for key, value in schema.items():
        if key == "type":
            json_type = _convert_type(value, where)
            if json_type is not None:
                out["type"] = json_type
        elif key == "properties":
            if not isinstance(value, Mapping):
                raise UserInputError(f"{where}: 'properties' must be an object")
            out["properties"] = {
                prop: _convert_schema(sub, f"{where}.{prop}") for prop, sub in value.items()
            }
        elif key == "items":
            if isinstance(value, list):  # the old tuple form; draft 2020-12 calls it prefixItems
                out["prefixItems"] = [_convert_schema(s, f"{where}.items[{i}]") for i, s in enumerate(value)]
            else:
                out["items"] = _convert_schema(value, f"{where}.items")
        elif key in ("prefixItems", "anyOf", "oneOf", "allOf"):
            if not isinstance(value, list):
                raise UserInputError(f"{where}: {key!r} must be a list of schemas")
            out[key] = [_convert_schema(s, f"{where}.{key}[{i}]") for i, s in enumerate(value)]
        elif key in ("additionalProperties", "not"):
            out[key] = value if isinstance(value, bool) else _convert_schema(value, f"{where}.{key}")
        elif key == "required":
            if not isinstance(value, list) or not all(isinstance(p, str) for p in value):
                raise UserInputError(f"{where}: 'required' must be a list of parameter names")
            out[key] = list(value)
        elif key == "enum":
            if not isinstance(value, list):
                raise UserInputError(f"{where}: 'enum' must be a list")
            out[key] = list(value)
        elif key == "description":
            out[key] = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        elif key in _PLAIN_KEYWORDS:
            out[key] = value
        elif key not in _DROPPED_KEYS:
            notes.append(f"{key}: {json.dumps(value, ensure_ascii=False)}")
    if notes:
        out["description"] = f"{out.get('description', '')} ({'; '.join(notes)})".strip()
    return out


def _convert_type(value: Any, where: str) -> str | list[str] | None:
    names = value if isinstance(value, list) else [value]
    converted = []
    for name in names:
        if not isinstance(name, str) or name not in _BFCL_TYPES:
            known = ", ".join(_BFCL_TYPES)
            raise UserInputError(f"{where}: unknown type {name!r} (known: {known})")
        json_type = _BFCL_TYPES[name]
        if json_type is None:
            return None  # "any" anywhere in the list lifts the constraint
        if json_type not in converted:
            converted.append(json_type)
    if not converted:
        raise UserInputError(f"{where}: empty type list")
    return converted[0] if len(converted) == 1 else converted


# ---------------------------------------------------------------------------
# Scoring
# ---------------------------------------------------------------------------

# BFCL removes these before comparing strings, so "April 1, 2024" == "april 1 2024".
_IGNORED_IN_STRINGS = re.compile(r"[ ,./\-_*^]")


def normalize_string(text: str) -> str:
    """BFCL's string normalisation: drop spaces and ``,./-_*^``, lowercase, ``'`` → ``"``."""
    return _IGNORED_IN_STRINGS.sub("", text).lower().replace("'", '"')


def score_item(item: BfclItem, calls: list[Mapping]) -> ScoreResult:
    """Score the calls a model made for `item` (``[{"name", "arguments"}]``) by BFCL's AST rules."""
    if not isinstance(calls, list):
        raise TypeError(f"calls must be a list of {{'name', 'arguments'}} objects, got {type(calls).__name__}")
    kind = _checker_kind(item)
    for i, call in enumerate(calls):
        problem = _malformed_call(call)
        if problem:
            return ScoreResult(False, f"{kind}: call {i + 1} is malformed: {problem}")

    if item.ground_truth is None:
        if calls:
            names = ", ".join(repr(c["name"]) for c in calls)
            return ScoreResult(False, f"irrelevance: no call expected, {len(calls)} made ({names})")
        return ScoreResult(True, "")

    expected = item.ground_truth
    if len(calls) != len(expected):
        return ScoreResult(False, f"{kind}: {_count(len(expected))} expected, {len(calls)} made")
    if len(expected) == 1:
        error = _call_error(item, calls[0], expected[0])
    else:
        error = _unordered_match_error(item, calls, expected)
    return ScoreResult(error is None, "" if error is None else f"{kind}: {error}")


def _checker_kind(item: BfclItem) -> str:
    if item.ground_truth is None:
        return "irrelevance"
    if "parallel" in item.category:
        return "parallel"
    if "multiple" in item.category:
        return "multiple"
    return "simple"


def _count(n: int) -> str:
    return f"{n} call" if n == 1 else f"{n} calls"


def _malformed_call(call: Any) -> str | None:
    if not isinstance(call, Mapping):
        return f"a call must be an object, got {_kind(call)}"
    if not isinstance(call.get("name"), str):
        return "'name' must be a string"
    if not isinstance(call.get("arguments"), Mapping):
        return f"'arguments' must be an object, got {_kind(call.get('arguments'))}"
    return None


def _unordered_match_error(item: BfclItem, calls: list[Mapping], expected: list[dict]) -> str | None:
    """None if the calls match the expected calls one to one in some order, else why not."""
    errors = [[_call_error(item, call, exp) for call in calls] for exp in expected]
    expected_of_call: dict[int, int] = {}

    # Kuhn's augmenting paths: a maximum bipartite matching, so order never matters.
    def place(e: int, visited: set[int]) -> bool:
        for c in range(len(calls)):
            if errors[e][c] is None and c not in visited:
                visited.add(c)
                if c not in expected_of_call or place(expected_of_call[c], visited):
                    expected_of_call[c] = e
                    return True
        return False

    unmatched = [e for e in range(len(expected)) if not place(e, set())]
    if not unmatched:
        return None
    c = next(c for c in range(len(calls)) if c not in expected_of_call)
    # Explain with the expected call that this leftover call comes closest to.
    e = max(
        (e for e in range(len(expected)) if errors[e][c] is not None),
        key=lambda e: (_closeness(item, calls[c], expected[e]), e in unmatched, -e),
    )
    return (
        f"no one-to-one match; call {c + 1} ({calls[c]['name']!r}) fits no expected call left; "
        f"closest is expected call {e + 1}: {errors[e][c]}"
    )


def _closeness(item: BfclItem, call: Mapping, expected: dict) -> tuple[bool, int]:
    """(same function, number of arguments the expected call accepts as they are)."""
    (name, accepted_args), = expected.items()
    if call["name"] != name:
        return (False, 0)
    properties = _parameters_of(item, name).get("properties", {})
    fitting = sum(
        1
        for param, value in call["arguments"].items()
        if param in properties
        and param in accepted_args
        and _type_ok(value, properties[param], accepted_args[param])
        and _value_error(value, accepted_args[param], properties[param], param) is None
    )
    return (True, fitting)


def _call_error(item: BfclItem, call: Mapping, expected: dict) -> str | None:
    """None if `call` matches the one expected call, else the first reason it does not."""
    (name, accepted_args), = expected.items()
    if call["name"] != name:
        return f"wrong function: {call['name']!r} called, {name!r} expected"
    schema = _parameters_of(item, name)
    properties = schema.get("properties", {})
    arguments = call["arguments"]

    for param in schema.get("required", []):
        if param not in arguments:
            return f"missing required parameter {param!r}"
    for param, value in arguments.items():
        if param not in properties:
            return f"unexpected parameter {param!r}: not in the schema of {name!r}"
        if param not in accepted_args:
            return f"unexpected parameter {param!r}: the expected call leaves it out"
        accepted = accepted_args[param]
        if not _type_ok(value, properties[param], accepted):
            return (
                f"wrong type for {param!r}: expected {_type_label(properties[param])}, "
                f"got {_kind(value)} {value!r}"
            )
        error = _value_error(value, accepted, properties[param], param)
        if error:
            return error
    for param, accepted in accepted_args.items():
        if param not in arguments and "" not in accepted:
            return f"missing parameter {param!r}: expected one of {accepted!r}"
    return None


def _parameters_of(item: BfclItem, name: str) -> dict:
    for tool in item.tools:
        if tool["function"]["name"] == name:
            return tool["function"]["parameters"]
    raise UserInputError(f"item {item.id}: the ground truth names {name!r}, which is not among its tools")


def _kind(value: Any) -> str:
    """The JSON type of a Python value (bool before int: True is an int in Python)."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    if value is None:
        return "null"
    return type(value).__name__


def _type_label(schema: Mapping) -> str:
    json_type = schema.get("type", "any")
    return json_type if isinstance(json_type, str) else " or ".join(json_type)


def _type_ok(value: Any, schema: Mapping, accepted: list) -> bool:
    # BFCL's "variable" rule: the ground truth sometimes uses another type than the
    # schema (a string for an integer, null for a float); a value of that type passes.
    return _conforms(value, schema) or any(_same_kind(value, a) for a in accepted if a != "")


def _conforms(value: Any, schema: Mapping) -> bool:
    json_type = schema.get("type")
    if json_type is None:
        return True
    types = [json_type] if isinstance(json_type, str) else json_type
    return any(_conforms_to_type(value, t, schema) for t in types)


def _conforms_to_type(value: Any, json_type: str, schema: Mapping) -> bool:
    kind = _kind(value)
    if json_type == "number":
        return kind in ("number", "integer")  # an int is accepted where a float is expected
    if json_type == "array":
        items = schema.get("items")
        return kind == "array" and (not isinstance(items, Mapping) or all(_conforms(v, items) for v in value))
    if json_type == "object":
        props = schema.get("properties", {})
        return kind == "object" and all(_conforms(v, props[k]) for k, v in value.items() if k in props)
    return kind == json_type


def _same_kind(value: Any, accepted_value: Any) -> bool:
    kind, accepted_kind = _kind(value), _kind(accepted_value)
    if kind == "integer" and accepted_kind == "number":
        return True
    if kind != accepted_kind:
        return False
    if kind == "array" and accepted_value:
        return all(any(_same_kind(v, a) for a in accepted_value) for v in value)
    return True


def _value_error(value: Any, accepted: list, schema: Mapping, path: str) -> str | None:
    if any(_equal(value, a, schema) for a in accepted):
        return None
    choices = [a for a in accepted if a != ""]
    if len(choices) == 1 and isinstance(choices[0], Mapping) and isinstance(value, Mapping):
        return _object_error(value, choices[0], schema, path)  # name the key that is wrong
    return f"wrong value for {path!r}: {value!r} not in {accepted!r}"


def _equal(value: Any, accepted_value: Any, schema: Mapping) -> bool:
    if isinstance(accepted_value, Mapping):
        # The ground truth writes an object as {key: [accepted values]}.
        return isinstance(value, Mapping) and _object_error(value, accepted_value, schema, "") is None
    if isinstance(accepted_value, list):
        if not isinstance(value, (list, tuple)) or len(value) != len(accepted_value):
            return False
        items = schema.get("items")
        items = items if isinstance(items, Mapping) else {}
        return all(_equal(v, a, items) for v, a in zip(value, accepted_value))
    if isinstance(accepted_value, str):
        if accepted_value == "" and isinstance(value, (list, tuple)):
            return not value  # BFCL: an empty list counts as leaving the parameter out
        return isinstance(value, str) and normalize_string(value) == normalize_string(accepted_value)
    if isinstance(accepted_value, bool) or isinstance(value, bool):
        return type(value) is type(accepted_value) and value == accepted_value
    if isinstance(accepted_value, (int, float)):
        return isinstance(value, (int, float)) and value == accepted_value
    return value == accepted_value


def _object_error(value: Mapping, accepted_value: Mapping, schema: Mapping, path: str) -> str | None:
    properties = schema.get("properties", {})
    for key, sub_value in value.items():
        if key not in accepted_value:
            return f"wrong value for {path!r}: unexpected key {key!r}"
        accepted = _as_accepted_list(accepted_value[key])
        error = _value_error(sub_value, accepted, properties.get(key, {}), f"{path}.{key}")
        if error:
            return error
    for key, accepted in accepted_value.items():
        if key not in value and "" not in _as_accepted_list(accepted):
            return f"wrong value for {path!r}: missing key {key!r}"
    return None


def _as_accepted_list(accepted: Any) -> list:
    return accepted if isinstance(accepted, list) else [accepted]


def reference_calls(item: BfclItem) -> list[dict]:
    """The ground truth as calls: first non-"" accepted value of each parameter, or
    the parameter left out when it may be. Scores 100%; an oracle for testing runners."""
    if item.ground_truth is None:
        return []
    calls = []
    for expected in item.ground_truth:
        (name, accepted_args), = expected.items()
        properties = _parameters_of(item, name).get("properties", {})
        arguments = {}
        for param, accepted in accepted_args.items():
            choices = [a for a in accepted if a != ""]
            # BFCL's ground truth sometimes names a parameter the schema lacks but lets it be omitted.
            if not choices or (param not in properties and "" in accepted):
                continue
            arguments[param] = _reference_value(choices[0])
        calls.append({"name": name, "arguments": arguments})
    return calls


def _reference_value(accepted_value: Any) -> Any:
    if isinstance(accepted_value, Mapping):
        obj = {}
        for key, accepted in accepted_value.items():
            choices = [a for a in _as_accepted_list(accepted) if a != ""]
            if choices:
                obj[key] = _reference_value(choices[0])
        return obj
    if isinstance(accepted_value, list):
        return [_reference_value(v) for v in accepted_value]
    return accepted_value


# ---------------------------------------------------------------------------
# Predictions and report
# ---------------------------------------------------------------------------


def score_predictions(items: Iterable[BfclItem], predictions: Iterable[Prediction]) -> list[ItemResult]:
    """Score one prediction per item, joined by id. Every item needs a prediction and
    every prediction an item (pass only the items that were run, e.g. after --limit)."""
    by_id = {}
    for prediction in predictions:
        if prediction.id in by_id:
            raise UserInputError(f"two predictions for item {prediction.id!r}")
        by_id[prediction.id] = prediction
    results = []
    for item in items:
        prediction = by_id.pop(item.id, None)
        if prediction is None:
            raise UserInputError(f"no prediction for item {item.id!r}")
        score = score_item(item, prediction.calls)
        results.append(ItemResult(item.id, item.category, score.ok, score.reason, prediction.latency_s))
    if by_id:
        raise UserInputError(f"predictions for items that were not given: {sorted(by_id)[:5]}")
    return results


def summarize(results: Iterable[ItemResult]) -> dict:
    """Per category: {"count", "correct", "accuracy", "latency_median_s", "latency_p90_s"}.

    Latencies that are None are left out of the latency figures (None if there are none);
    p90 interpolates linearly between the two nearest ranks.
    """
    by_category: dict[str, list[ItemResult]] = {}
    for result in results:
        by_category.setdefault(result.category, []).append(result)
    order = {name: i for i, name in enumerate(CATEGORIES)}
    summary = {}
    for category in sorted(by_category, key=lambda c: (order.get(c, len(order)), c)):
        group = by_category[category]
        correct = sum(r.ok for r in group)
        latencies = sorted(r.latency_s for r in group if r.latency_s is not None)
        summary[category] = {
            "count": len(group),
            "correct": correct,
            "accuracy": correct / len(group),
            "latency_median_s": statistics.median(latencies) if latencies else None,
            "latency_p90_s": _percentile(latencies, 0.9) if latencies else None,
        }
    return summary


def _percentile(sorted_values: list[float], fraction: float) -> float:
    position = fraction * (len(sorted_values) - 1)
    low = int(position)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


def write_predictions(path: str | os.PathLike, predictions: Iterable[Prediction | Mapping]) -> None:
    """Write one JSON line ``{"id", "calls", "latency_s"}`` per prediction, atomically:
    a reader sees the old file or the complete new one, never a half-written file."""
    path = Path(path)
    lines = []
    for i, prediction in enumerate(predictions):
        if isinstance(prediction, Mapping):
            prediction = _prediction_from_json(prediction, f"prediction {i}")
        record = {"id": prediction.id, "calls": prediction.calls, "latency_s": prediction.latency_s}
        try:
            lines.append(json.dumps(record, ensure_ascii=False, allow_nan=False) + "\n")
        except (TypeError, ValueError) as e:
            raise UserInputError(f"prediction {prediction.id!r} cannot be written as JSON: {e}") from None
    atomic_write_text(path, "".join(lines))


def read_predictions(path: str | os.PathLike) -> list[Prediction]:
    """Read a file written by `write_predictions`; bad lines raise UserInputError (file:line)."""
    path = Path(path)
    if not path.is_file():
        raise UserInputError(f"predictions file not found: {path}")
    predictions = []
    first_line_of: dict[str, int] = {}
    for line_no, where, record in _jsonl_records(path):
        prediction = _prediction_from_json(record, where)
        if prediction.id in first_line_of:
            raise UserInputError(
                f"{where}: duplicate id {prediction.id!r} (first on line {first_line_of[prediction.id]})"
            )
        first_line_of[prediction.id] = line_no
        predictions.append(prediction)
    return predictions


def _prediction_from_json(record: Any, where: str) -> Prediction:
    if not isinstance(record, Mapping):
        raise UserInputError(f"{where}: a prediction must be a JSON object, got {_kind(record)}")
    item_id = record.get("id")
    if not isinstance(item_id, str) or not item_id:
        raise UserInputError(f"{where}: 'id' must be a non-empty string, got {item_id!r}")
    calls = record.get("calls")
    if not isinstance(calls, list):
        raise UserInputError(f"{where}: 'calls' must be a list, got {_kind(calls)}")
    for i, call in enumerate(calls):
        problem = _malformed_call(call)
        if problem:
            raise UserInputError(f"{where}: call {i + 1}: {problem}")
    latency = record.get("latency_s")
    if latency is not None and (_kind(latency) not in ("integer", "number") or not 0 <= latency < math.inf):
        raise UserInputError(f"{where}: 'latency_s' must be a finite number >= 0 or null, got {latency!r}")
    calls = [{"name": c["name"], "arguments": dict(c["arguments"])} for c in calls]
    return Prediction(item_id, calls, None if latency is None else float(latency))
