"""`Grammar`: what a generation must match, compiled by the native grammar engine.

    g = Grammar.from_json_schema({"type": "object", "properties": {...}})
    g = Grammar.from_tools(tools, mode="required", parallel=3)
    g = Grammar.from_ebnf('root ::= "yes" | "no"')
    g = Grammar.from_regex(r"\\d{3}-\\d{4}")
    engine.generate(prompt, grammar=g)

A Grammar is independent of any model; an Engine compiles it for its vocabulary on
first use (and keeps that), and runs one matcher per request in the decode loop:
the mask is applied in C++, and bytes the grammar forces are fed in one batch.
"""

from __future__ import annotations

import json
from typing import Any, Iterable, Mapping, Sequence, Union

from . import _core
from .errors import GrammarError, InvalidParameterError

__all__ = ["Grammar", "TOOL_MODES"]

TOOL_MODES = ("auto", "required", "none")


def _schema_text(schema: Any) -> str:
    """A JSON Schema given as a dict, JSON text, or a pydantic model class → JSON text."""
    if isinstance(schema, str):
        return schema
    if isinstance(schema, type) and hasattr(schema, "model_json_schema"):
        return json.dumps(schema.model_json_schema())
    if isinstance(schema, (Mapping, bool)):
        try:
            return json.dumps(schema)
        except (TypeError, ValueError) as e:
            raise GrammarError(f"the schema is not JSON-serializable: {e}") from None
    raise GrammarError(f"a JSON Schema must be a dict, JSON text or a pydantic model class, not {type(schema).__name__}")


def _tool_function(tool: Any) -> dict:
    """One tool (OpenAI dict, edgeagent Tool, or typed function) → {"name", "parameters"}."""
    from .tool import Tool

    if callable(tool) and not isinstance(tool, (Mapping, Tool)):
        tool = Tool.from_function(tool)
    if isinstance(tool, Tool):
        tool = tool.schema
    if not isinstance(tool, Mapping):
        raise GrammarError(f"a tool must be an OpenAI-style dict, a Tool or a function, not {type(tool).__name__}")
    fn = tool.get("function", tool)
    name = fn.get("name") if isinstance(fn, Mapping) else None
    if not isinstance(name, str) or not name:
        raise GrammarError(f"tool without a name: {json.dumps(tool)[:80]}")
    params = fn.get("parameters", {"type": "object", "properties": {}})
    return {"name": name, "parameters": params}


class Grammar:
    """An immutable grammar; build it with one of the `from_*` constructors."""

    def __init__(self, native: "_core.Grammar", kind: str, description: str):
        self._native = native
        self.kind = kind
        self.description = description

    @property
    def warnings(self) -> list[str]:
        """Keywords ignored under `lenient=True`, with their locations."""
        return list(self._native.warnings)

    @property
    def tool_names(self) -> list[str]:
        return list(self._native.tool_names)

    def __repr__(self) -> str:
        return f"Grammar.{self.kind}({self.description})"

    @classmethod
    def from_json_schema(cls, schema: Any, *, lenient: bool = False, validation: bool = False,
                         additional_properties: bool = False) -> "Grammar":
        """JSON matching `schema`. Unsupported keywords raise GrammarError naming them
        (or are ignored with a warning under `lenient`). Generation mode (the default)
        writes compact JSON with properties in schema order and, unless
        `additional_properties`, no properties beyond those listed; `validation=True`
        follows JSON Schema's own semantics (any whitespace and order)."""
        text = _schema_text(schema)
        native = _core.grammar_from_json_schema(text, lenient, validation, additional_properties)
        return cls(native, "from_json_schema", text[:60])

    @classmethod
    def from_tools(cls, tools: Sequence[Any], *, mode: str = "auto", parallel: Union[bool, int] = False,
                   format: str = "hermes") -> "Grammar":
        """A tool-call envelope over `tools`. `mode`: "auto" (text or calls), "required"
        (calls only), "none" (text only) or a tool name (calls of that tool only).
        `parallel`: False = one call, True = up to 8, an int = up to that many.
        `format`: "hermes" (Qwen's `<tool_call>` blocks), "json" (a JSON array of calls)
        or "json_object" (one bare call object; `parallel` must then allow one call)."""
        if isinstance(tools, (str, bytes, Mapping)) or not isinstance(tools, Iterable):
            raise InvalidParameterError("tools must be a list of tools")
        specs = [_tool_function(t) for t in tools]
        names = [s["name"] for s in specs]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise GrammarError(f"duplicate tool names: {', '.join(duplicates)}")
        if isinstance(parallel, bool):
            max_calls = 8 if parallel else 1
        elif isinstance(parallel, int) and parallel >= 1:
            max_calls = parallel
        else:
            raise InvalidParameterError(f"parallel must be a bool or an int >= 1, got {parallel!r}")
        if mode in TOOL_MODES:
            choice, named = mode, ""
        elif mode in names:
            choice, named = "named", mode
        else:
            raise InvalidParameterError(f"mode must be one of {', '.join(TOOL_MODES)} or a tool name "
                                        f"({', '.join(names)}), got {mode!r}")
        native = _core.grammar_from_tools([(s["name"], json.dumps(s["parameters"])) for s in specs], choice, named,
                                          max_calls, format)
        return cls(native, "from_tools", f"{len(specs)} tools, mode={mode}, parallel={max_calls}")

    @classmethod
    def from_ebnf(cls, text: str, *, root: str = "root") -> "Grammar":
        """A GBNF grammar (llama.cpp's EBNF dialect); errors carry line and column."""
        return cls(_core.grammar_from_ebnf(text, root), "from_ebnf", text[:60])

    @classmethod
    def from_regex(cls, pattern: str) -> "Grammar":
        """Text matching `pattern` as a whole (a documented regex subset)."""
        return cls(_core.grammar_from_regex(pattern), "from_regex", pattern[:60])
