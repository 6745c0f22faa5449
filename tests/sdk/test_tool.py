"""edgeagent.tool: schemas from type hints and docstrings, validation, registry."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Annotated, Literal, Optional, Union

import jsonschema
import pydantic
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edgeagent.errors import ToolArgumentError, ToolDefinitionError, ToolExecutionError
from edgeagent.tool import Tool, ToolRegistry, tool


class Unit(enum.Enum):
    """Temperature unit."""
    CELSIUS = "celsius"
    FAHRENHEIT = "fahrenheit"


class Priority(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Address(pydantic.BaseModel):
    street: str
    city: str = "Lisbon"


class Person(pydantic.BaseModel):
    name: str
    address: Address


class TreeNode(pydantic.BaseModel):
    label: str
    children: list[TreeNode] = []


def props(t: Tool) -> dict:
    return t.schema["function"]["parameters"]["properties"]


# -- schemas -------------------------------------------------------------------


def test_bare_decorator_google_docstring_and_defaults():
    @tool
    def get_weather(city: str, days: int = 1, unit: Unit = Unit.CELSIUS,
                    detailed: bool = False, ratio: float = 0.5) -> str:
        """Get the weather forecast.

        Looks it up
        offline.

        - one
        - two

        Args:
            city: Name of the city,
                e.g. "Lisbon".
            days: Number of days.
        """
        return f"{city}:{days}:{unit.value}"

    s = get_weather.schema
    assert s["type"] == "function"
    f = s["function"]
    assert f["name"] == "get_weather"
    assert f["description"] == "Get the weather forecast.\n\nLooks it up offline.\n\n- one\n- two"
    p = f["parameters"]
    assert p["type"] == "object" and p["additionalProperties"] is False
    assert p["required"] == ["city"]
    assert p["properties"]["city"] == {"type": "string",
                                       "description": 'Name of the city, e.g. "Lisbon".'}
    assert p["properties"]["days"] == {"type": "integer", "description": "Number of days.",
                                       "default": 1}
    assert p["properties"]["unit"] == {"type": "string", "enum": ["celsius", "fahrenheit"],
                                       "description": "Temperature unit.", "default": "celsius"}
    assert p["properties"]["detailed"] == {"type": "boolean", "default": False}
    assert p["properties"]["ratio"] == {"type": "number", "default": 0.5}
    jsonschema.Draft202012Validator.check_schema(p)
    # still callable like the function, and keeps its identity
    assert get_weather("Porto", 2) == "Porto:2:celsius"
    assert get_weather.__name__ == "get_weather" and not get_weather.side_effect


def test_decorator_with_options():
    @tool(name="files.delete", description="Remove a file.", side_effect=True)
    def delete(path: str) -> None:
        """Ignored docstring."""

    assert delete.name == "files.delete"
    assert delete.description == "Remove a file."
    assert delete.side_effect is True
    assert delete.schema["function"]["name"] == "files.delete"


def test_only_if_said_words_are_checked():
    @tool(only_if_said=["Draft", "drafts"])
    def draft(text: str) -> None:
        """Keep a draft."""

    assert draft.only_if_said == frozenset({"draft", "drafts"})
    assert Tool.from_openai({"name": "x", "parameters": {"type": "object"}}).only_if_said == frozenset()
    def keep(text: str) -> None:
        """Keep it."""

    for bad in (["two words"], [""], [3], 7):
        with pytest.raises(ToolDefinitionError, match="only_if_said"):
            tool(only_if_said=bad)(keep)


def test_numpy_and_rest_docstrings():
    @tool
    def numpy_style(a: int, b: str) -> None:
        """Numpy summary.

        Parameters
        ----------
        a : int
            The a value.
        b : str
            The b value.
        """

    @tool
    def rest_style(a: int, b: str) -> None:
        """reST summary.

        :param a: The a value.
        :param b: The b value.
        :returns: nothing.
        """

    for t, summary in ((numpy_style, "Numpy summary."), (rest_style, "reST summary.")):
        assert t.description == summary
        assert props(t)["a"]["description"] == "The a value."
        assert props(t)["b"]["description"] == "The b value."


def test_literal_optional_union_and_containers():
    @tool
    def f(mode: Literal["fast", "slow"], level: Literal[1, 2, 3] = 1,
          maybe: Optional[int] = None, either: Union[int, str] = 0, piped: str | None = None,
          tags: list[str] | None = None, scores: dict[str, float] | None = None,
          pair: tuple[int, str] = (1, "a"), prio: Priority = Priority.LOW,
          mixed: Literal["a", 1] = "a", note: Annotated[str, "A note."] = "") -> None: ...

    p = props(f)
    assert p["mode"] == {"type": "string", "enum": ["fast", "slow"]}
    assert p["level"] == {"type": "integer", "enum": [1, 2, 3], "default": 1}
    assert p["maybe"] == {"type": ["integer", "null"], "default": None}
    assert p["either"] == {"type": ["integer", "string"], "default": 0}
    assert p["piped"] == {"type": ["string", "null"], "default": None}
    assert p["tags"] == {"anyOf": [{"type": "array", "items": {"type": "string"}},
                                   {"type": "null"}], "default": None}
    assert p["scores"]["anyOf"][0] == {"type": "object",
                                       "additionalProperties": {"type": "number"}}
    assert p["pair"]["prefixItems"] == [{"type": "integer"}, {"type": "string"}]
    assert p["pair"]["default"] == [1, "a"]
    assert p["prio"] == {"type": "integer", "enum": [1, 2], "default": 1}
    assert p["mixed"]["enum"] == ["a", 1] and sorted(p["mixed"]["type"]) == ["integer", "string"]
    assert p["note"]["description"] == "A note."
    assert f.schema["function"]["parameters"]["required"] == ["mode"]


def test_dates_pydantic_models_and_recursive_models():
    @tool
    def f(day: dt.date, at: dt.datetime, who: Person, tree: TreeNode | None = None) -> None: ...

    p = props(f)
    assert p["day"] == {"type": "string", "format": "date"}
    assert p["at"] == {"type": "string", "format": "date-time"}
    # $defs of a plain model are inlined: no $ref left for Person/Address
    assert "$ref" not in str(p["who"])
    assert p["who"]["properties"]["address"]["properties"]["city"]["default"] == "Lisbon"
    # a recursive model keeps a local $defs at the root of the parameters
    params = f.schema["function"]["parameters"]
    assert "TreeNode" in params["$defs"]
    assert "#/$defs/TreeNode" in str(params["$defs"]["TreeNode"])
    jsonschema.Draft202012Validator.check_schema(params)
    jsonschema.validate({"day": "2025-01-01", "at": "2025-01-01T10:00", "who": {
        "name": "a", "address": {"street": "s"}}, "tree": {"label": "r", "children": [
            {"label": "c", "children": []}]}}, params)


def test_annotated_field_constraints():
    @tool
    def f(n: Annotated[int, pydantic.Field(ge=1, le=10, description="How many.")],
          code: Annotated[str, pydantic.Field(pattern=r"^[A-Z]{3}$")] = "ABC") -> int:
        return n

    assert props(f)["n"] == {"type": "integer", "minimum": 1, "maximum": 10,
                             "description": "How many."}
    assert props(f)["code"]["pattern"] == "^[A-Z]{3}$"
    assert f.invoke({"n": 3}) == 3
    with pytest.raises(ToolArgumentError, match="'n'"):
        f.invoke({"n": 11})


# -- definition errors ---------------------------------------------------------


@pytest.mark.parametrize("src, needle", [
    ("def f(a): ...", "parameter 'a': has no type hint"),
    ("def f(a: int, *rest: int): ...", "*rest"),
    ("def f(a: int, **kw: int): ...", "**kw"),
    ("def f(a: object): ...", "parameter 'a': unsupported type annotation"),
    ("def f(a: list): ...", "parameter 'a'"),
    ("def f(a: dict[int, str]): ...", "str keys"),
    ("def f(a: typing.Any): ...", "typing.Any"),
    ("def f(a: 'Missing'): ...", "cannot resolve its type hints"),
])
def test_definition_errors_name_function_and_parameter(src, needle):
    import typing
    ns: dict = {"typing": typing}
    exec(src, ns)
    with pytest.raises(ToolDefinitionError) as info:
        tool(ns["f"])
    assert needle in str(info.value)
    assert "f" in str(info.value)


def test_bad_tool_name():
    with pytest.raises(ToolDefinitionError, match="must match"):
        tool(name="has space")(lambda: None)


# -- validation and invocation ---------------------------------------------------


@tool
def book(who: Person, day: dt.date, unit: Unit = Unit.CELSIUS, count: int = 1,
         weight: float = 1.0, tags: list[Priority] | None = None) -> dict:
    """Book something."""
    return {"who": who, "day": day, "unit": unit, "count": count, "weight": weight, "tags": tags}


def test_validate_coerces_to_python_types():
    args = book.validate_arguments({"who": {"name": "Ana", "address": {"street": "R"}},
                                    "day": "2025-03-14", "unit": "fahrenheit", "count": 3.0,
                                    "weight": 2, "tags": [2]})
    assert isinstance(args["who"], Person) and args["who"].address.city == "Lisbon"
    assert args["day"] == dt.date(2025, 3, 14)
    assert args["unit"] is Unit.FAHRENHEIT
    assert args["count"] == 3 and type(args["count"]) is int
    assert type(args["weight"]) is float
    assert args["tags"] == [Priority.HIGH]
    # JSON text is accepted too, as a model emits it
    out = book.invoke('{"who": {"name": "B", "address": {"street": "S"}}, "day": "2025-01-02"}')
    assert out["unit"] is Unit.CELSIUS and out["day"] == dt.date(2025, 1, 2)


@pytest.mark.parametrize("args, param, needle", [
    ({"day": "2025-01-01"}, "who", "required"),
    ({"who": {"name": "a", "address": {"street": "s"}}, "day": "2025-01-01", "colour": 1},
     "colour", "not a parameter"),
    ({"who": {"name": "a", "address": {"street": "s"}}, "day": "2025-13-01"}, "day", "date"),
    ({"who": {"name": "a", "address": {"street": "s"}}, "day": "2025-01-01", "unit": "kelvin"},
     "unit", "kelvin"),
    ({"who": {"name": "a", "address": {}}, "day": "2025-01-01"}, "who", "street"),
    ({"who": {"name": "a", "address": {"street": "s"}}, "day": "2025-01-01", "count": "3"},
     "count", "integer"),
])
def test_argument_errors_name_the_parameter(args, param, needle):
    with pytest.raises(ToolArgumentError) as info:
        book.validate_arguments(args)
    assert info.value.parameter == param
    assert f"'{param}'" in str(info.value) and needle in str(info.value)
    assert "'book'" in str(info.value)


def test_arguments_must_be_an_object():
    with pytest.raises(ToolArgumentError, match="must be an object"):
        book.validate_arguments([1, 2])
    with pytest.raises(ToolArgumentError, match="not valid JSON"):
        book.validate_arguments("{not json")


def test_invoke_wraps_failures_but_passes_our_errors_through():
    @tool
    def boom(x: int) -> int:
        if x == 0:
            raise ToolArgumentError("argument 'x': zero refused")
        raise RuntimeError("disk on fire")

    with pytest.raises(ToolExecutionError, match="'boom' failed: RuntimeError: disk on fire"):
        boom.invoke({"x": 1})
    with pytest.raises(ToolArgumentError, match="zero refused"):
        boom.invoke({"x": 0})


def test_positional_only_parameters_are_called_positionally():
    @tool
    def add(a: int, b: int, /, c: int = 0) -> int:
        return a + b + c

    assert add.invoke({"a": 1, "b": 2, "c": 3}) == 6


# -- OpenAI-format dicts ---------------------------------------------------------

OPENAI = {"type": "function", "function": {
    "name": "get_stock_price", "description": "Price of a stock.",
    "parameters": {"type": "object", "properties": {
        "symbol": {"type": "string"}, "exchange": {"type": "string", "enum": ["NYSE", "LSE"]}},
        "required": ["symbol"]}}}


def test_from_openai_accepts_dict_as_is():
    t = Tool.from_openai(OPENAI)
    assert t.schema == OPENAI
    assert t.validate_arguments({"symbol": "X", "extra": 1}) == {"symbol": "X", "extra": 1}
    with pytest.raises(ToolArgumentError, match="'exchange'"):
        t.validate_arguments({"symbol": "X", "exchange": "TSE"})
    with pytest.raises(ToolExecutionError, match="no Python function"):
        t.invoke({"symbol": "X"})
    bound = Tool.from_openai(OPENAI["function"], fn=lambda symbol, exchange="NYSE": 42.0)
    assert bound.invoke({"symbol": "X"}) == 42.0


@pytest.mark.parametrize("spec, needle", [
    ({"type": "function", "function": {"name": "bad name!", "parameters": {}}}, "must match"),
    ({"type": "function", "function": {"name": "x" * 65}}, "must match"),
    ({"type": "tool", "function": {"name": "a"}}, "'type' must be 'function'"),
    ({"type": "function", "function": {"description": "no name"}}, "'name'"),
    ({"type": "function", "function": {"name": "a", "parameters": {"type": "array"}}},
     "type 'object'"),
    ({"type": "function", "function": {"name": "a", "parameters": {
        "type": "object", "properties": {"x": {"type": "strnig"}}}}},
     "properties/x/type"),
    ({"type": "function", "function": {"name": "a", "parameters": {
        "type": "object", "required": "x"}}}, "required"),
    ({"type": "function", "function": {"name": "a", "description": 3}}, "'description'"),
    ({"type": "function", "function": {"name": "a", "returns": {}}}, "unknown keys"),
    ("not a dict", "must be a dict"),
])
def test_from_openai_rejects_invalid(spec, needle):
    with pytest.raises(ToolDefinitionError) as info:
        Tool.from_openai(spec)
    assert needle in str(info.value)


# -- registry ------------------------------------------------------------------


def test_registry():
    reg = ToolRegistry([book])
    reg.add(OPENAI)

    def plain(a: int) -> int:
        return a * 2

    reg.add(plain)
    assert reg.names() == ["book", "get_stock_price", "plain"]
    assert len(reg) == 3 and "plain" in reg and [t.name for t in reg] == reg.names()
    assert reg.schemas()[1] == OPENAI
    assert reg.invoke("plain", {"a": 4}) == 8
    with pytest.raises(ToolDefinitionError, match="duplicate tool name 'book'"):
        reg.add(book)
    with pytest.raises(ToolArgumentError, match="unknown tool 'nope'.*book"):
        reg.get("nope")


def test_registry_from_openai_list_names_the_bad_entry():
    reg = ToolRegistry.from_openai_list([OPENAI, {"name": "b"}])
    assert reg.names() == ["get_stock_price", "b"]
    with pytest.raises(ToolDefinitionError, match=r"tools\[1\]"):
        ToolRegistry.from_openai_list([OPENAI, {"name": "a b"}])
    with pytest.raises(ToolDefinitionError, match="duplicate"):
        ToolRegistry.from_openai_list([OPENAI, OPENAI])


# -- property: our validation agrees with jsonschema on any argument dict -----------

@tool
def prop_target(name: str, count: int, mode: Literal["a", "b"] = "a",
                ratio: float | None = None, tags: list[str] | None = None,
                unit: Unit = Unit.CELSIUS, day: dt.date | None = None) -> None:
    """Target for the property test."""


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner,
                                                               max_size=3),
    max_leaves=6)
_PLAUSIBLE = {
    "name": st.text(max_size=8) | _JSON,
    "count": st.integers(-5, 5) | _JSON,
    "mode": st.sampled_from(["a", "b", "c"]),
    "ratio": st.floats(allow_nan=False, allow_infinity=False) | st.none() | st.text(max_size=3),
    "tags": st.lists(st.text(max_size=4), max_size=3) | st.none() | _JSON,
    "unit": st.sampled_from(["celsius", "fahrenheit", "kelvin"]),
    "day": st.dates().map(dt.date.isoformat) | st.sampled_from(["2025-02-30", "x"]),
    "extra": _JSON,
}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.fixed_dictionaries({}, optional=_PLAUSIBLE))
def test_validation_agrees_with_jsonschema(args):
    params = prop_target.schema["function"]["parameters"]
    checker = jsonschema.Draft202012Validator(params, format_checker=jsonschema.FormatChecker())
    schema_ok = checker.is_valid(args)
    day_ok = True
    if isinstance(args.get("day"), str):  # our date check: a real calendar date
        try:
            dt.date.fromisoformat(args["day"])
        except ValueError:
            day_ok = False
    try:
        out = prop_target.validate_arguments(args)
    except ToolArgumentError as exc:
        assert not (schema_ok and day_ok), exc
        assert exc.parameter is None or exc.parameter in set(args) | set(params["required"])
        return
    assert schema_ok and day_ok
    assert set(out) == set(args)
    if "unit" in out:
        assert isinstance(out["unit"], Unit)
    if out.get("day") is not None:
        assert isinstance(out["day"], dt.date)
    if out.get("ratio") is not None:
        assert isinstance(out["ratio"], float)
    assert type(out["count"]) is int
