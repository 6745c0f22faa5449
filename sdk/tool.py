"""Tools: Python functions (or OpenAI-format dicts) with a JSON schema.

`@tool` reads a function's signature, type hints and docstring and builds the
OpenAI-style schema the model sees::

    {"type": "function",
     "function": {"name": ..., "description": ..., "parameters": {JSON Schema}}}

The same `Tool` object validates what the model produced (jsonschema first, so
the rules are exactly the ones the grammar enforced; then pydantic turns JSON
values into the Python types the function declared) and calls the function.
`ToolRegistry` holds the tools an agent may use, one per name.

This module imports nothing from edgeagent but `edgeagent.errors`: the native
grammar compiler and the planner consume the plain schema dicts it produces.
"""

from __future__ import annotations

import copy
import datetime as _dt
import enum
import functools
import inspect
import json
import re
import types
import typing
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import docstring_parser
import jsonschema
import pydantic

from edgeagent.errors import (
    EdgeAgentError,
    ToolArgumentError,
    ToolDefinitionError,
    ToolExecutionError,
)

__all__ = ["Tool", "ToolRegistry", "tool", "TOOL_NAME_PATTERN", "name_in_words"]

#: Names OpenAI accepts for functions; we hold every tool to the same rule.
TOOL_NAME_PATTERN = r"^[a-zA-Z0-9_.-]{1,64}$"
_NAME_RE = re.compile(TOOL_NAME_PATTERN)


def name_in_words(name: str) -> str:
    """A tool name as words: "kinematics.distanceTraveled" -> "kinematics distance Traveled"."""
    return re.sub(r"([a-z])([A-Z])", r"\1 \2", name).replace("_", " ").replace(".", " ")


_Validator = jsonschema.Draft202012Validator

# Dates arrive as ISO 8601 strings. jsonschema's own date-time check needs an
# optional package and insists on a UTC offset; small models often write local
# times without one, which Python reads fine, so we check with Python's parser.
_FORMATS = jsonschema.FormatChecker(formats=())


@_FORMATS.checks("date", raises=ValueError)
def _is_date(value: object) -> bool:
    return not isinstance(value, str) or bool(_dt.date.fromisoformat(value))


@_FORMATS.checks("date-time", raises=ValueError)
def _is_datetime(value: object) -> bool:
    return not isinstance(value, str) or bool(_dt.datetime.fromisoformat(value))


@_FORMATS.checks("time", raises=ValueError)
def _is_time(value: object) -> bool:
    return not isinstance(value, str) or bool(_dt.time.fromisoformat(value))


# --------------------------------------------------------------------------
# Python annotations -> JSON Schema
# --------------------------------------------------------------------------

_SIMPLE_TYPES: dict[Any, dict[str, Any]] = {
    str: {"type": "string"},
    int: {"type": "integer"},
    float: {"type": "number"},
    bool: {"type": "boolean"},
    type(None): {"type": "null"},
    _dt.datetime: {"type": "string", "format": "date-time"},  # before date: subclass
    _dt.date: {"type": "string", "format": "date"},
    _dt.time: {"type": "string", "format": "time"},
}

_CONSTRAINT_KEYS = frozenset({
    "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
    "minLength", "maxLength", "pattern", "minItems", "maxItems", "uniqueItems"})

_JSON_TYPE_OF_VALUE = {bool: "boolean", int: "integer", float: "number", str: "string",
                       type(None): "null"}


class _Unsupported(Exception):
    """Raised inside the converter; turned into ToolDefinitionError with context."""


def _enum_schema(values: list[Any]) -> dict[str, Any]:
    for v in values:
        if type(v) not in _JSON_TYPE_OF_VALUE:
            raise _Unsupported(f"enum value {v!r} is not a JSON scalar")
    kinds = sorted({_JSON_TYPE_OF_VALUE[type(v)] for v in values})
    schema: dict[str, Any] = {"type": kinds[0] if len(kinds) == 1 else kinds}
    schema["enum"] = list(values)
    return schema


def _is_pydantic_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, pydantic.BaseModel)


def _merge_union(members: list[dict[str, Any]]) -> dict[str, Any]:
    # {"type": "string"} | {"type": "null"} reads better (and costs the model
    # fewer tokens) as {"type": ["string", "null"]}; anything richer uses anyOf.
    if all(set(m) == {"type"} and isinstance(m["type"], str) for m in members):
        kinds = list(dict.fromkeys(m["type"] for m in members))
        return {"type": kinds[0] if len(kinds) == 1 else kinds}
    return {"anyOf": members}


def _annotation_schema(tp: Any, defs: dict[str, Any]) -> dict[str, Any]:
    """JSON Schema for one annotation; pydantic `$defs` are collected into `defs`."""
    try:
        simple = _SIMPLE_TYPES.get(tp)
    except TypeError:  # unhashable, e.g. Annotated[int, Field(...)]
        simple = None
    if simple is not None:
        return dict(simple)
    if tp is None:
        return {"type": "null"}
    if tp is Any:
        raise _Unsupported("typing.Any gives the model no schema to follow")
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Annotated:
        schema = _annotation_schema(args[0], defs)
        for meta in args[1:]:
            desc = meta if isinstance(meta, str) else getattr(meta, "description", None)
            if isinstance(desc, str):
                schema["description"] = desc
        if any(not isinstance(m, str) for m in args[1:]):
            # Constraints such as Field(ge=1) or annotated_types.MaxLen, as pydantic
            # renders them; they are enforced again when arguments are coerced.
            try:
                rendered = pydantic.TypeAdapter(tp).json_schema()
            except Exception:
                rendered = {}
            schema.update({k: v for k, v in rendered.items() if k in _CONSTRAINT_KEYS})
        return schema
    if origin is typing.Literal:
        return _enum_schema([a.value if isinstance(a, enum.Enum) else a for a in args])
    if origin is typing.Union or origin is types.UnionType:
        return _merge_union([_annotation_schema(a, defs) for a in args])
    if origin in (list, set, frozenset) or tp in (list,):
        if not args:
            raise _Unsupported(f"{tp!r} needs an item type, e.g. list[str]")
        schema = {"type": "array", "items": _annotation_schema(args[0], defs)}
        if origin in (set, frozenset):
            schema["uniqueItems"] = True
        return schema
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return {"type": "array", "items": _annotation_schema(args[0], defs)}
        if not args or args == ((),):
            raise _Unsupported(f"{tp!r} needs item types")
        return {"type": "array", "prefixItems": [_annotation_schema(a, defs) for a in args],
                "items": False, "minItems": len(args)}
    if origin is dict or tp is dict:
        if len(args) != 2 or args[0] is not str:
            raise _Unsupported(f"{tp!r}: dictionaries need str keys, e.g. dict[str, int]")
        return {"type": "object", "additionalProperties": _annotation_schema(args[1], defs)}
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        schema = _enum_schema([m.value for m in tp])
        doc = tp.__dict__.get("__doc__")
        if doc and not doc.startswith("An enumeration"):
            schema["description"] = inspect.cleandoc(doc)
        return schema
    if _is_pydantic_model(tp):
        schema = tp.model_json_schema()
        for name, sub in schema.pop("$defs", {}).items():
            if name in defs and defs[name] != sub:
                raise _Unsupported(f"two different models are both named {name!r}")
            defs[name] = sub
        return schema
    raise _Unsupported(f"unsupported type annotation {tp!r}")


def _inline_refs(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """Replace `#/$defs/X` references by their definitions, keeping recursive ones.

    Small models and our grammar compiler both do better with a flat schema;
    a self-referencing model cannot be flattened, so its definition stays in
    the root `$defs` (where the references point).
    """
    kept: dict[str, Any] = {}

    def walk(node: Any, stack: tuple[str, ...]) -> Any:
        if isinstance(node, list):
            return [walk(n, stack) for n in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            name = ref[len("#/$defs/"):]
            if name in stack:
                if name not in kept:
                    kept[name] = None  # placeholder: breaks the cycle
                    kept[name] = walk(defs[name], (name,))
                return node
            resolved = walk(defs[name], stack + (name,))
            extra = {k: walk(v, stack) for k, v in node.items() if k != "$ref"}
            return {**resolved, **extra}
        return {k: (walk(v, stack) if k not in ("properties", "$defs") else
                    {pk: walk(pv, stack) for pk, pv in v.items()})
                for k, v in node.items()}

    out = walk(schema, ())
    if kept:
        out["$defs"] = kept
    return out


def _to_json_default(value: Any) -> Any:
    """A default value as JSON, or raise TypeError if it has no JSON form."""
    if isinstance(value, enum.Enum):
        value = value.value
    elif isinstance(value, (_dt.date, _dt.time)):
        value = value.isoformat()
    elif isinstance(value, pydantic.BaseModel):
        value = value.model_dump(mode="json")
    elif isinstance(value, (tuple, set, frozenset)):
        value = list(value)
    json.dumps(value)
    return value


def _needs_coercion(tp: Any) -> bool:
    """True if JSON values must be converted to reach the declared Python type."""
    # int too: JSON Schema's "integer" accepts 3.0, the function wants 3.
    if tp in (int, float, _dt.date, _dt.datetime, _dt.time):
        return True
    if isinstance(tp, type) and (issubclass(tp, enum.Enum) or _is_pydantic_model(tp)):
        return True
    origin = typing.get_origin(tp)
    if origin in (tuple, set, frozenset):
        return True
    return any(_needs_coercion(a) for a in typing.get_args(tp) if a is not Ellipsis)


# --------------------------------------------------------------------------
# Tool
# --------------------------------------------------------------------------


class Tool:
    """A named function with a JSON schema for its arguments.

    Built by `@tool` from a Python function or by `Tool.from_openai` from a
    schema dict (optionally with a Python function to run). Calling the Tool
    calls the function directly; `invoke` validates model-produced arguments
    first.
    """

    def __init__(
        self,
        name: str,
        description: str,
        parameters: Mapping[str, Any],
        fn: Callable[..., Any] | None = None,
        *,
        side_effect: bool = False,
        only_if_said: Iterable[str] = (),
        _coercers: Mapping[str, Any] | None = None,
        _positional: tuple[str, ...] = (),
    ) -> None:
        _check_name(name)
        self.name = name
        self.description = description
        self.side_effect = bool(side_effect)
        # Words one of which a request must say for an assistant to offer the tool: a
        # weaker variant of another (a draft rather than a sent message) or one that
        # destroys data; small models otherwise pick it for a request that never asked.
        self.only_if_said = _said_words(name, only_if_said)
        self.fn = fn
        self._parameters = copy.deepcopy(dict(parameters))
        self._validator = _Validator(self._parameters, format_checker=_FORMATS)
        # Parameter name -> annotation; a pydantic TypeAdapter is built on first use.
        self._coercers = dict(_coercers or {})
        self._adapters: dict[str, pydantic.TypeAdapter[Any]] = {}
        self._positional = _positional
        if fn is not None:
            functools.update_wrapper(self, fn)  # type: ignore[arg-type]

    # -- what the model sees ------------------------------------------------

    @property
    def parameters(self) -> dict[str, Any]:
        """The JSON Schema of the arguments object (a copy: safe to modify)."""
        return copy.deepcopy(self._parameters)

    @property
    def schema(self) -> dict[str, Any]:
        """The tool in OpenAI format: {"type": "function", "function": {...}}."""
        return {"type": "function", "function": {
            "name": self.name, "description": self.description,
            "parameters": self.parameters}}

    def to_openai(self) -> dict[str, Any]:
        """Same as `schema`."""
        return self.schema

    def __repr__(self) -> str:
        flag = ", side_effect=True" if self.side_effect else ""
        return f"Tool({self.name!r}{flag})"

    # -- building -------------------------------------------------------------

    @classmethod
    def from_function(
        cls,
        fn: Callable[..., Any],
        *,
        name: str | None = None,
        description: str | None = None,
        side_effect: bool = False,
        only_if_said: Iterable[str] = (),
    ) -> Tool:
        """Build a Tool from a typed function (what `@tool` does)."""
        if not callable(fn):
            raise ToolDefinitionError(f"@tool needs a function, got {fn!r}")
        fname = getattr(fn, "__qualname__", None) or repr(fn)
        name = name if name is not None else getattr(fn, "__name__", "")
        _check_name(name, what=f"function {fname}")
        try:
            sig = inspect.signature(fn)
        except (TypeError, ValueError) as exc:
            raise ToolDefinitionError(
                f"function {fname}: cannot read its signature: {exc}") from exc
        try:
            hints = typing.get_type_hints(fn, include_extras=True)
        except Exception as exc:  # NameError for unresolvable forward references, etc.
            raise ToolDefinitionError(
                f"function {fname}: cannot resolve its type hints: {exc}") from exc

        doc = docstring_parser.parse(inspect.getdoc(fn) or "")
        param_docs = {p.arg_name: " ".join((p.description or "").split()) for p in doc.params}
        if description is None:
            description = "\n\n".join(
                _unwrap(d) for d in (doc.short_description, doc.long_description) if d)

        properties: dict[str, Any] = {}
        required: list[str] = []
        defs: dict[str, Any] = {}
        coercers: dict[str, Any] = {}
        positional: list[str] = []
        for pname, param in sig.parameters.items():
            where = f"function {fname}, parameter {pname!r}"
            if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                star = "*" if param.kind is param.VAR_POSITIONAL else "**"
                raise ToolDefinitionError(
                    f"{where}: {star}{pname} cannot be described to a model; "
                    "list each argument explicitly")
            if pname not in hints:
                raise ToolDefinitionError(f"{where}: has no type hint")
            annotation = hints[pname]
            try:
                schema = _annotation_schema(annotation, defs)
            except _Unsupported as exc:
                raise ToolDefinitionError(f"{where}: {exc}") from None
            if pname in param_docs and param_docs[pname]:
                schema["description"] = param_docs[pname]
            if param.default is param.empty:
                required.append(pname)
            else:
                try:
                    schema["default"] = _to_json_default(param.default)
                except (TypeError, ValueError):
                    pass  # still optional; the default just isn't shown to the model
            properties[pname] = schema
            if _needs_coercion(annotation):
                coercers[pname] = annotation
            if param.kind is param.POSITIONAL_ONLY:
                positional.append(pname)

        parameters: dict[str, Any] = {"type": "object", "properties": properties}
        if required:
            parameters["required"] = required
        parameters["additionalProperties"] = False
        parameters = _inline_refs(parameters, defs)
        try:
            _Validator.check_schema(parameters)
        except jsonschema.SchemaError as exc:
            raise ToolDefinitionError(
                f"function {fname}: produced an invalid schema: {exc.message}") from None
        return cls(name, description or "", parameters, fn, side_effect=side_effect, only_if_said=only_if_said,
                   _coercers=coercers, _positional=tuple(positional))

    @classmethod
    def from_openai(
        cls,
        spec: Mapping[str, Any],
        fn: Callable[..., Any] | None = None,
        *,
        side_effect: bool = False,
        only_if_said: Iterable[str] = (),
    ) -> Tool:
        """Accept an OpenAI-format tool dict as it is, after checking it.

        Both `{"type": "function", "function": {...}}` and the bare
        `{"name", "description", "parameters"}` form are accepted. `fn`, if
        given, is what `invoke` calls with the validated arguments.
        """
        if not isinstance(spec, Mapping):
            raise ToolDefinitionError(f"a tool must be a dict, got {type(spec).__name__}")
        if "function" in spec or "type" in spec:
            unknown = set(spec) - {"type", "function"}
            if unknown:
                raise ToolDefinitionError(f"tool dict has unknown keys {sorted(unknown)}")
            if spec.get("type") != "function":
                raise ToolDefinitionError(
                    f"tool dict: 'type' must be 'function', got {spec.get('type')!r}")
            func = spec.get("function")
            if not isinstance(func, Mapping):
                raise ToolDefinitionError("tool dict: 'function' must be an object")
        else:
            func = spec
        name = func.get("name")
        label = f"tool {name!r}" if isinstance(name, str) else "tool"
        unknown = set(func) - {"name", "description", "parameters", "strict"}
        if unknown:
            raise ToolDefinitionError(f"{label}: unknown keys {sorted(unknown)} in function")
        if not isinstance(name, str):
            raise ToolDefinitionError("tool dict: 'name' is missing or not a string")
        _check_name(name)
        description = func.get("description", "")
        if not isinstance(description, str):
            raise ToolDefinitionError(f"{label}: 'description' must be a string")
        parameters = func.get("parameters", {"type": "object", "properties": {}})
        if not isinstance(parameters, Mapping):
            raise ToolDefinitionError(f"{label}: 'parameters' must be a JSON Schema object")
        if parameters.get("type", "object") != "object":
            raise ToolDefinitionError(
                f"{label}: 'parameters' must have type 'object', got {parameters.get('type')!r}")
        try:
            _Validator.check_schema(parameters)
        except jsonschema.SchemaError as exc:
            path = "/".join(str(p) for p in exc.absolute_path) or "(root)"
            raise ToolDefinitionError(
                f"{label}: 'parameters' is not a valid JSON Schema at {path}: {exc.message}"
            ) from None
        return cls(name, description, parameters, fn, side_effect=side_effect, only_if_said=only_if_said)

    # -- using ----------------------------------------------------------------

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.fn is None:
            raise ToolExecutionError(f"tool {self.name!r} has no Python function to call")
        return self.fn(*args, **kwargs)

    def validate_arguments(self, arguments: Mapping[str, Any] | str | None) -> dict[str, Any]:
        """Check arguments against the schema and convert them to Python types.

        `arguments` may be a dict or its JSON text (as models emit it). Raises
        ToolArgumentError naming the offending parameter; the exception's
        `parameter` attribute holds that name (None for a whole-object error).
        """
        if arguments is None:
            arguments = {}
        if isinstance(arguments, str):
            try:
                arguments = json.loads(arguments or "{}")
            except json.JSONDecodeError as exc:
                raise _arg_error(self.name, None, f"arguments are not valid JSON: {exc}") from None
        if not isinstance(arguments, Mapping):
            raise _arg_error(self.name, None,
                             f"arguments must be an object, got {type(arguments).__name__}")
        args = dict(arguments)
        # Whole-object errors (missing, unexpected) first: they name the parameter.
        errors = sorted(self._validator.iter_errors(args),
                        key=lambda e: (len(e.absolute_path), [str(p) for p in e.absolute_path]))
        if errors:
            raise _describe_schema_error(self.name, errors[0], self._parameters)
        for pname, annotation in self._coercers.items():
            if pname not in args:
                continue
            adapter = self._adapters.get(pname)
            if adapter is None:
                adapter = self._adapters[pname] = pydantic.TypeAdapter(annotation)
            try:
                args[pname] = adapter.validate_python(args[pname])
            except pydantic.ValidationError as exc:
                first = exc.errors()[0]
                loc = "".join(f"[{p!r}]" for p in first["loc"])
                raise _arg_error(self.name, pname, f"{first['msg']}{' at ' + loc if loc else ''}"
                                 ) from None
        return args

    def invoke(self, arguments: Mapping[str, Any] | str | None = None) -> Any:
        """Validate `arguments` and call the function with them.

        Errors edgeagent raises on purpose (a refused path is a
        ToolArgumentError) pass through unchanged; any other exception becomes
        ToolExecutionError carrying the tool name and the reason.
        """
        args = self.validate_arguments(arguments)
        if self.fn is None:
            raise ToolExecutionError(f"tool {self.name!r} has no Python function to call")
        positional = [args.pop(p) for p in self._positional if p in args]
        try:
            return self.fn(*positional, **args)
        except EdgeAgentError:
            raise
        except Exception as exc:
            reason = str(exc) or type(exc).__name__
            raise ToolExecutionError(
                f"tool {self.name!r} failed: {type(exc).__name__}: {reason}") from exc


_LIST_ITEM = re.compile(r"^\s*([-*•]|\d+[.)])\s")


def _unwrap(text: str) -> str:
    """Join a docstring's hard-wrapped lines into one line per paragraph (not lists)."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    out = []
    for p in paragraphs:
        lines = p.splitlines()
        out.append(p.strip() if any(_LIST_ITEM.match(x) for x in lines)
                   else " ".join(x.strip() for x in lines))
    return "\n\n".join(out)


def _check_name(name: Any, what: str = "tool") -> None:
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise ToolDefinitionError(
            f"{what}: name {name!r} must match {TOOL_NAME_PATTERN} "
            "(letters, digits, _ . -; at most 64 characters)")


def _said_words(name: str, words: Iterable[str]) -> frozenset[str]:
    if isinstance(words, str):
        words = [words]
    try:
        out = [w.strip().lower() if isinstance(w, str) else w for w in words]
    except TypeError:
        raise ToolDefinitionError(f"tool {name!r}: only_if_said must be a list of words, got {words!r}") from None
    bad = next((w for w in out if not isinstance(w, str) or not re.fullmatch(r"[a-z0-9]+", w)), None)
    if bad is not None:
        raise ToolDefinitionError(f"tool {name!r}: only_if_said holds {bad!r}, not a single word")
    return frozenset(out)


def _arg_error(tool_name: str, parameter: str | None, message: str) -> ToolArgumentError:
    where = f"argument {parameter!r}" if parameter else "arguments"
    err = ToolArgumentError(f"tool {tool_name!r}, {where}: {message}")
    err.parameter = parameter
    return err


def _describe_schema_error(tool_name: str, error: jsonschema.ValidationError,
                           parameters: Mapping[str, Any]) -> ToolArgumentError:
    path = list(error.absolute_path)
    known = sorted(parameters.get("properties", {}))
    if not path and error.validator == "required":
        missing = [r for r in error.validator_value if r not in error.instance]
        param = missing[0] if missing else None
        return _arg_error(tool_name, param, "is required but missing")
    if not path and error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(known))
        param = extra[0] if extra else None
        listed = ", ".join(known) or "none"
        return _arg_error(tool_name, param,
                          f"is not a parameter of this tool (parameters: {listed})")
    # anyOf (Optional, unions) reports only "not valid under any": descend to
    # the branch jsonschema judges most relevant for a message that says why.
    best = jsonschema.exceptions.best_match([error])
    if best is not None and len(best.absolute_path) >= len(path):
        error, path = best, list(best.absolute_path)
    param = str(path[0]) if path else None
    inner = "".join(f"[{p!r}]" for p in path[1:])
    return _arg_error(tool_name, param, f"{error.message}{' at ' + inner if inner else ''}")


@typing.overload
def tool(fn: Callable[..., Any], /) -> Tool: ...
@typing.overload
def tool(*, name: str | None = None, description: str | None = None, side_effect: bool = False,
         only_if_said: Iterable[str] = ()) -> Callable[[Callable[..., Any]], Tool]: ...


def tool(fn: Callable[..., Any] | None = None, /, *, name: str | None = None,
         description: str | None = None, side_effect: bool = False, only_if_said: Iterable[str] = ()) -> Any:
    """Turn a typed function into a `Tool`: `@tool` or `@tool(name=..., side_effect=True)`.

    The description comes from the docstring's summary (Google, NumPy or reST
    style), each parameter's from its entry in the docstring. `only_if_said`: words
    one of which a request must say for an assistant to offer the tool.
    """
    def wrap(f: Callable[..., Any]) -> Tool:
        return Tool.from_function(f, name=name, description=description,
                                  side_effect=side_effect, only_if_said=only_if_said)
    return wrap if fn is None else wrap(fn)


# --------------------------------------------------------------------------
# ToolRegistry
# --------------------------------------------------------------------------


class ToolRegistry:
    """The tools an agent may call, one per name, in the order they were added."""

    def __init__(self, tools: Iterable[Tool | Callable[..., Any] | Mapping[str, Any]] = ()) -> None:
        self._tools: dict[str, Tool] = {}
        for t in tools:
            self.add(t)

    def add(self, item: Tool | Callable[..., Any] | Mapping[str, Any]) -> Tool:
        """Add a Tool, a typed function or an OpenAI tool dict; returns the Tool."""
        if isinstance(item, Tool):
            t = item
        elif isinstance(item, Mapping):
            t = Tool.from_openai(item)
        else:
            t = Tool.from_function(item)
        if t.name in self._tools:
            raise ToolDefinitionError(f"duplicate tool name {t.name!r}")
        self._tools[t.name] = t
        return t

    def extend(self, items: Iterable[Tool | Callable[..., Any] | Mapping[str, Any]]) -> None:
        for item in items:
            self.add(item)

    def get(self, name: str) -> Tool:
        """The tool called `name`; ToolArgumentError (listing the known names) if none."""
        try:
            return self._tools[name]
        except (KeyError, TypeError):
            raise ToolArgumentError(
                f"unknown tool {name!r}; known tools: {', '.join(self._tools) or 'none'}"
            ) from None

    def names(self) -> list[str]:
        return list(self._tools)

    def schemas(self) -> list[dict[str, Any]]:
        """Every tool in OpenAI format, in registry order."""
        return [t.schema for t in self._tools.values()]

    def invoke(self, name: str, arguments: Mapping[str, Any] | str | None = None) -> Any:
        """Validate and run the tool called `name`."""
        return self.get(name).invoke(arguments)

    @classmethod
    def from_openai_list(cls, specs: Iterable[Mapping[str, Any]]) -> ToolRegistry:
        """A registry from a list of OpenAI tool dicts (e.g. a tools.json file)."""
        if isinstance(specs, (str, bytes, Mapping)) or not isinstance(specs, Iterable):
            raise ToolDefinitionError("expected a list of tool dicts")
        reg = cls()
        for i, spec in enumerate(specs):
            try:
                reg.add(Tool.from_openai(spec))
            except ToolDefinitionError as exc:
                raise ToolDefinitionError(f"tools[{i}]: {exc}") from None
        return reg

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __iter__(self) -> Iterator[Tool]:
        return iter(self._tools.values())

    def __len__(self) -> int:
        return len(self._tools)

    def __repr__(self) -> str:
        return f"ToolRegistry({self.names()!r})"
