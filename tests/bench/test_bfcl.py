"""Tests of edgeagent.bench.bfcl: data loading, schema conversion, BFCL scoring, reports.

The dev split of BFCL lives in shared/ beside the repo; tests that need it are
skipped with a clear reason when it is absent. The rest build small items by hand.
"""

from __future__ import annotations

import copy
import json
import math
import random
import re
from functools import lru_cache
from pathlib import Path

import jsonschema
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from edgeagent.bench import bfcl
from edgeagent.errors import UserInputError

DEV_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "bench" / "bfcl-dev"
DEV_CATEGORIES = ("simple_python", "multiple", "parallel", "parallel_multiple", "irrelevance")
SCORED_CATEGORIES = DEV_CATEGORIES[:-1]

needs_dev = pytest.mark.skipif(
    not DEV_DIR.is_dir(), reason=f"BFCL dev data not found at {DEV_DIR} (expected shared/ beside the repo)"
)

# No example database: the tests must not write .hypothesis/ into the repo.
PROPERTY = settings(
    max_examples=80, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)

BFCL_ONLY_TYPES = {"dict", "float", "tuple", "any"}


@lru_cache(maxsize=None)
def dev_items(category: str) -> tuple[bfcl.BfclItem, ...]:
    return tuple(bfcl.load_category(DEV_DIR, category))


def scored_dev_items() -> list[bfcl.BfclItem]:
    return [item for category in SCORED_CATEGORIES for item in dev_items(category)]


def parameters_of(item: bfcl.BfclItem, name: str) -> dict:
    return next(t["function"]["parameters"] for t in item.tools if t["function"]["name"] == name)


def schema_nodes(schema: dict):
    """The schema and every schema nested in it."""
    yield schema
    for sub in schema.get("properties", {}).values():
        yield from schema_nodes(sub)
    for key in ("items", "additionalProperties", "not"):
        if isinstance(schema.get(key), dict):
            yield from schema_nodes(schema[key])
    for key in ("prefixItems", "anyOf", "oneOf", "allOf"):
        for sub in schema.get(key, []):
            yield from schema_nodes(sub)


def types_in(schema: dict) -> list:
    return [node["type"] for node in schema_nodes(schema) if "type" in node]


def make_item(category: str, functions: list[dict], ground_truth: list[dict] | None) -> bfcl.BfclItem:
    return bfcl.BfclItem(
        id=f"{category}_t",
        category=category,
        messages=[{"role": "user", "content": "q"}],
        functions=functions,
        tools=[bfcl.bfcl_function_to_tool(f) for f in functions],
        ground_truth=ground_truth,
    )


def call(name: str, **arguments) -> dict:
    return {"name": name, "arguments": arguments}


DISTANCE = {
    "name": "geo.distance",
    "description": "Distance between two places.",
    "parameters": {
        "type": "dict",
        "properties": {
            "origin": {"type": "string", "description": "From."},
            "destination": {"type": "string", "description": "To."},
            "unit": {"type": "string", "description": "Unit.", "optional": True},
            "precision": {"type": "float", "description": "Decimals."},
            "steps": {"type": "integer", "description": "Steps."},
            "exact": {"type": "boolean", "description": "Exact?"},
        },
        "required": ["origin", "destination"],
    },
}


def distance_item(category="simple_python", **accepted) -> bfcl.BfclItem:
    expected = {"origin": ["Paris"], "destination": ["Berlin"], "unit": ["kilometers", ""], **accepted}
    return make_item(category, [DISTANCE], [{"geo.distance": expected}])


# ---------------------------------------------------------------------------
# Dev data: load, convert, reference answers
# ---------------------------------------------------------------------------


@needs_dev
@pytest.mark.parametrize("category", DEV_CATEGORIES)
def test_every_dev_record_loads_and_converts_to_valid_json_schema(category):
    items = dev_items(category)
    assert items
    for item in items:
        assert item.category == category
        assert item.messages and all(m["role"] and isinstance(m["content"], str) for m in item.messages)
        assert [t["function"]["name"] for t in item.tools] == [f["name"] for f in item.functions]
        assert (item.ground_truth is None) == (category == "irrelevance")
        for tool in item.tools:
            assert tool["type"] == "function"
            parameters = tool["function"]["parameters"]
            jsonschema.Draft202012Validator.check_schema(parameters)
            assert parameters["type"] == "object"
            for json_type in types_in(parameters):
                assert json_type not in BFCL_ONLY_TYPES, (item.id, json_type)
            assert not any("optional" in node for node in schema_nodes(parameters)), item.id


@needs_dev
def test_simple_alias_loads_simple_python():
    assert [i.id for i in bfcl.load_category(DEV_DIR, "simple")] == [i.id for i in dev_items("simple_python")]


@needs_dev
@pytest.mark.parametrize("category", SCORED_CATEGORIES)
def test_ground_truth_as_prediction_scores_100_percent(category):
    for item in dev_items(category):
        result = bfcl.score_item(item, bfcl.reference_calls(item))
        assert result == bfcl.ScoreResult(True, ""), (item.id, result.reason)


@needs_dev
@pytest.mark.parametrize("category", ["parallel", "parallel_multiple"])
def test_shuffled_parallel_calls_still_score_100_percent(category):
    rng = random.Random(4)
    for item in dev_items(category):
        calls = bfcl.reference_calls(item)
        for _ in range(3):
            rng.shuffle(calls)
            assert bfcl.score_item(item, calls).ok, (item.id, bfcl.score_item(item, calls).reason)


@needs_dev
@PROPERTY
@given(data=st.data())
def test_any_order_of_parallel_calls_scores_100_percent(data):
    item = data.draw(st.sampled_from(dev_items("parallel") + dev_items("parallel_multiple")))
    calls = data.draw(st.permutations(bfcl.reference_calls(item)))
    assert bfcl.score_item(item, calls).ok


@needs_dev
def test_irrelevance_passes_without_a_call():
    for item in dev_items("irrelevance"):
        assert bfcl.reference_calls(item) == []
        assert bfcl.score_item(item, []).ok


# ---------------------------------------------------------------------------
# Dev data: every mutation of a right answer fails, for the right reason
# ---------------------------------------------------------------------------


def draw_reference(data):
    item = data.draw(st.sampled_from(scored_dev_items()), label="item")
    calls = bfcl.reference_calls(item)
    index = data.draw(st.integers(0, len(calls) - 1), label="call")
    return item, calls, index


@needs_dev
@PROPERTY
@given(data=st.data())
def test_mutation_wrong_function_name(data):
    item, calls, i = draw_reference(data)
    calls[i]["name"] += "_renamed"
    result = bfcl.score_item(item, calls)
    assert not result.ok
    assert f"wrong function: {calls[i]['name']!r} called" in result.reason


@needs_dev
@PROPERTY
@given(data=st.data())
def test_mutation_missing_required_parameter(data):
    item, calls, i = draw_reference(data)
    present = [p for p in parameters_of(item, calls[i]["name"]).get("required", []) if p in calls[i]["arguments"]]
    assume(present)
    param = data.draw(st.sampled_from(present), label="param")
    del calls[i]["arguments"][param]
    result = bfcl.score_item(item, calls)
    assert not result.ok
    assert f"missing required parameter {param!r}" in result.reason


@needs_dev
@PROPERTY
@given(data=st.data())
def test_mutation_unexpected_parameter(data):
    item, calls, i = draw_reference(data)
    calls[i]["arguments"]["zz_not_a_parameter"] = 1
    result = bfcl.score_item(item, calls)
    assert not result.ok
    assert "unexpected parameter 'zz_not_a_parameter'" in result.reason


def changed_value(value):
    """A value of the same JSON type that is not the given one (None: no such change here)."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1000003
    if isinstance(value, float):
        return value + 1000.25
    if isinstance(value, str):
        return value + "Qx9"
    if isinstance(value, list) and value:
        return value + [value[-1]]
    if isinstance(value, dict):
        return {**value, "zz_key": 1}
    return None


@needs_dev
@PROPERTY
@given(data=st.data())
def test_mutation_wrong_value(data):
    item, calls, i = draw_reference(data)
    arguments = calls[i]["arguments"]
    assume(arguments)
    param = data.draw(st.sampled_from(sorted(arguments)), label="param")
    new = changed_value(arguments[param])
    assume(new is not None)
    accepted = item.ground_truth[i][calls[i]["name"]][param]
    assume(not (isinstance(new, bool) and new in [a for a in accepted if isinstance(a, bool)]))
    arguments[param] = new
    result = bfcl.score_item(item, calls)
    assert not result.ok
    assert f"wrong value for {param!r}" in result.reason or f"wrong value for '{param}." in result.reason


@needs_dev
@PROPERTY
@given(data=st.data())
def test_mutation_extra_call(data):
    item, calls, i = draw_reference(data)
    expected = len(calls)
    calls.insert(data.draw(st.integers(0, expected)), copy.deepcopy(calls[i]))
    result = bfcl.score_item(item, calls)
    assert not result.ok
    assert result.reason.endswith(f" expected, {expected + 1} made")
    assert f"{expected} call" in result.reason


@needs_dev
@PROPERTY
@given(data=st.data())
def test_mutation_missing_call(data):
    item, calls, i = draw_reference(data)
    expected = len(calls)
    del calls[i]
    result = bfcl.score_item(item, calls)
    assert not result.ok
    kind = "parallel" if "parallel" in item.category else ("multiple" if "multiple" in item.category else "simple")
    noun = "call" if expected == 1 else "calls"
    assert result.reason == f"{kind}: {expected} {noun} expected, {expected - 1} made"


@needs_dev
@PROPERTY
@given(data=st.data())
def test_any_call_fails_an_irrelevance_item(data):
    item = data.draw(st.sampled_from(dev_items("irrelevance")))
    tool = data.draw(st.sampled_from(item.tools))["function"]
    name = tool["name"]
    result = bfcl.score_item(item, [call(name, **{p: 1 for p in tool["parameters"].get("required", [])})])
    assert result == bfcl.ScoreResult(False, f"irrelevance: no call expected, 1 made ({name!r})")


# ---------------------------------------------------------------------------
# Scoring rules on hand-made items
# ---------------------------------------------------------------------------


def test_wrong_value_reason_names_parameter_value_and_accepted_values():
    result = bfcl.score_item(distance_item(), [call("geo.distance", origin="Paris", destination="Berlin", unit="km")])
    assert result == bfcl.ScoreResult(False, "simple: wrong value for 'unit': 'km' not in ['kilometers', '']")


def test_empty_string_in_accepted_values_means_the_parameter_may_be_omitted():
    item = distance_item()
    assert bfcl.score_item(item, [call("geo.distance", origin="Paris", destination="Berlin")]).ok
    strict = distance_item(unit=["kilometers"])
    result = bfcl.score_item(strict, [call("geo.distance", origin="Paris", destination="Berlin")])
    assert result.reason == "simple: missing parameter 'unit': expected one of ['kilometers']"


def test_parameter_the_ground_truth_leaves_out_is_unexpected():
    result = bfcl.score_item(distance_item(), [call("geo.distance", origin="Paris", destination="Berlin", steps=3)])
    assert result.reason == "simple: unexpected parameter 'steps': the expected call leaves it out"
    result = bfcl.score_item(distance_item(), [call("geo.distance", origin="Paris", destination="Berlin", via="x")])
    assert result.reason == "simple: unexpected parameter 'via': not in the schema of 'geo.distance'"


def test_counts_per_checker():
    item = distance_item()
    good = call("geo.distance", origin="Paris", destination="Berlin")
    assert bfcl.score_item(item, []).reason == "simple: 1 call expected, 0 made"
    multiple = distance_item("multiple")
    assert bfcl.score_item(multiple, [good, good]).reason == "multiple: 1 call expected, 2 made"
    parallel = make_item("parallel", [DISTANCE], [item.ground_truth[0], item.ground_truth[0]])
    assert bfcl.score_item(parallel, [good]).reason == "parallel: 2 calls expected, 1 made"
    assert bfcl.score_item(parallel, [good, good]).ok


def test_booleans_are_not_numbers():
    item = distance_item(steps=[1], exact=[True])
    result = bfcl.score_item(item, [call("geo.distance", origin="Paris", destination="Berlin", steps=True, exact=True)])
    assert result.reason == "simple: wrong type for 'steps': expected integer, got boolean True"
    result = bfcl.score_item(item, [call("geo.distance", origin="Paris", destination="Berlin", steps=1, exact=1)])
    assert result.reason == "simple: wrong type for 'exact': expected boolean, got integer 1"
    # Inside an object no type check runs first: the comparison itself must tell them apart.
    fn = {
        "name": "f",
        "description": "",
        "parameters": {"type": "dict", "properties": {"box": {"type": "dict", "properties": {"w": {"type": "float"}}}}},
    }
    item = make_item("simple_python", [fn], [{"f": {"box": [{"w": [1.0]}]}}])
    assert bfcl.score_item(item, [call("f", box={"w": 1})]).ok
    assert bfcl.score_item(item, [call("f", box={"w": True})]).reason == (
        "simple: wrong value for 'box.w': True not in [1.0]"
    )


def test_value_of_the_ground_truths_own_type_passes_the_type_check():
    # BFCL's "variable" rule: the ground truth gives a string where the schema says integer.
    item = distance_item(steps=["n_steps"])
    assert bfcl.score_item(item, [call("geo.distance", origin="Paris", destination="Berlin", steps="N Steps")]).ok


def test_objects_compare_key_by_key_against_their_own_accepted_lists():
    fn = {
        "name": "update",
        "description": "",
        "parameters": {
            "type": "dict",
            "properties": {
                "info": {
                    "type": "dict",
                    "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
                }
            },
            "required": ["info"],
        },
    }
    item = make_item("simple_python", [fn], [{"update": {"info": [{"name": ["John Doe"], "age": [30, ""]}]}}])
    assert bfcl.score_item(item, [call("update", info={"name": "john_doe"})]).ok
    assert bfcl.score_item(item, [call("update", info={"name": "John Doe", "age": 30})]).ok
    assert bfcl.score_item(item, [call("update", info={"name": "Jane"})]).reason == (
        "simple: wrong value for 'info.name': 'Jane' not in ['John Doe']"
    )
    assert bfcl.score_item(item, [call("update", info={"age": 30})]).reason == (
        "simple: wrong value for 'info': missing key 'name'"
    )
    assert bfcl.score_item(item, [call("update", info={"name": "John Doe", "x": 1})]).reason == (
        "simple: wrong value for 'info': unexpected key 'x'"
    )


def test_lists_compare_element_wise_with_normalised_strings_and_objects():
    fn = {
        "name": "query",
        "description": "",
        "parameters": {
            "type": "dict",
            "properties": {
                "tags": {"type": "array", "items": {"type": "string"}},
                "conditions": {"type": "array", "items": {"type": "dict", "properties": {}}},
            },
            "required": ["tags"],
        },
    }
    gt = {"tags": [["New York", "LA"]], "conditions": [[{"field": ["age"], "op": [">", "gt"]}], ""]}
    item = make_item("simple_python", [fn], [{"query": gt}])
    assert bfcl.score_item(item, [call("query", tags=["new york", "L.A."])]).ok
    assert bfcl.score_item(item, [call("query", tags=["NewYork", "LA"], conditions=[{"field": "Age", "op": "gt"}])]).ok
    assert not bfcl.score_item(item, [call("query", tags=["LA", "New York"])]).ok  # order matters in a list
    assert not bfcl.score_item(item, [call("query", tags=["New York"])]).ok
    assert not bfcl.score_item(item, [call("query", tags=[])]).ok
    # BFCL's list checker lets an empty list stand for "omitted" where "" is accepted.
    assert bfcl.score_item(item, [call("query", tags=["New York", "LA"], conditions=[])]).ok


def test_parallel_matching_does_not_depend_on_call_order():
    # The first expected call accepts either company; greedy matching in call order
    # would give it Apple's call and leave the third expected call without one.
    gt = [
        {"stock": {"company": ["Microsoft", "Apple"], "date": ["2022-01-01"]}},
        {"stock": {"company": ["Microsoft"], "date": ["2022-02-01"]}},
        {"stock": {"company": ["Apple"], "date": ["2022-01-01"]}},
    ]
    fn = {
        "name": "stock",
        "description": "",
        "parameters": {
            "type": "dict",
            "properties": {"company": {"type": "string"}, "date": {"type": "string"}},
            "required": ["company", "date"],
        },
    }
    item = make_item("parallel", [fn], gt)
    calls = [
        call("stock", company="Apple", date="2022-01-01"),
        call("stock", company="Microsoft", date="2022-01-01"),
        call("stock", company="Microsoft", date="2022-02-01"),
    ]
    assert bfcl.score_item(item, calls).ok
    calls[2]["arguments"]["date"] = "2022-03-01"
    assert bfcl.score_item(item, calls).reason == (
        "parallel: no one-to-one match; call 3 ('stock') fits no expected call left; "
        "closest is expected call 2: wrong value for 'date': '2022-03-01' not in ['2022-02-01']"
    )


def test_malformed_calls_are_misses_not_crashes():
    item = distance_item()
    result = bfcl.score_item(item, [{"name": "geo.distance", "arguments": '{"origin": "Paris"}'}])
    assert result == bfcl.ScoreResult(False, "simple: call 1 is malformed: 'arguments' must be an object, got string")
    assert not bfcl.score_item(item, [{"arguments": {}}]).ok
    with pytest.raises(TypeError):
        bfcl.score_item(item, "geo.distance()")


IGNORED = " ,./-_*^"


def reshaped(draw, text: str) -> str:
    """`text` with random letter case and BFCL's ignorable characters sprinkled in."""
    out = []
    for ch in text:
        out.append(draw(st.sampled_from(["", *IGNORED])))
        out.append(ch.upper() if draw(st.booleans()) else ch.lower())
    return "".join(out)


ASCII_WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789 ,.-'", min_size=1, max_size=20)


@PROPERTY
@given(data=st.data(), text=ASCII_WORDS)
def test_strings_match_regardless_of_case_spaces_and_bfcl_punctuation(data, text):
    variant = reshaped(data.draw, text)
    assert bfcl.normalize_string(variant) == bfcl.normalize_string(text)
    assert bfcl.normalize_string(text) == re.sub(r"[ ,./\-_*^]", "", text).lower().replace("'", '"')
    item = distance_item(origin=[text])
    assert bfcl.score_item(item, [call("geo.distance", origin=variant, destination="berlin")]).ok


@PROPERTY
@given(data=st.data(), text=ASCII_WORDS, extra=st.sampled_from("#@!?q7"))
def test_other_characters_still_count_in_strings(data, text, extra):
    position = data.draw(st.integers(0, len(text)))
    variant = text[:position] + extra + text[position:]
    item = distance_item(origin=[text])
    result = bfcl.score_item(item, [call("geo.distance", origin=variant, destination="Berlin")])
    assert result.reason == f"simple: wrong value for 'origin': {variant!r} not in {[text]!r}"


@PROPERTY
@given(n=st.integers(-10**9, 10**9))
def test_int_is_accepted_where_float_is_expected(n):
    item = distance_item(precision=[float(n)])
    for value in (n, float(n)):
        assert bfcl.score_item(item, [call("geo.distance", origin="Paris", destination="Berlin", precision=value)]).ok
    # Never a type error, even when no accepted value has a number type to compare with.
    only_omitted = distance_item(precision=[""])
    result = bfcl.score_item(only_omitted, [call("geo.distance", origin="Paris", destination="Berlin", precision=n)])
    assert result.reason == f"simple: wrong value for 'precision': {n!r} not in ['']"


@PROPERTY
@given(n=st.integers(-10**9, 10**9))
def test_float_is_refused_where_integer_is_expected(n):
    item = distance_item(steps=[n])
    assert bfcl.score_item(item, [call("geo.distance", origin="Paris", destination="Berlin", steps=n)]).ok
    result = bfcl.score_item(item, [call("geo.distance", origin="Paris", destination="Berlin", steps=float(n))])
    assert result.reason == f"simple: wrong type for 'steps': expected integer, got number {float(n)!r}"


@PROPERTY
@given(values=st.lists(st.integers(-1000, 1000), min_size=1, max_size=5))
def test_int_is_accepted_as_float_inside_lists_and_objects(values):
    fn = {
        "name": "f",
        "description": "",
        "parameters": {
            "type": "dict",
            "properties": {
                "xs": {"type": "array", "items": {"type": "float"}},
                "box": {"type": "dict", "properties": {"w": {"type": "float"}}},
            },
            "required": ["xs", "box"],
        },
    }
    item = make_item("simple_python", [fn], [{"f": {"xs": [[float(v) for v in values]], "box": [{"w": [float(values[0])]}]}}])
    assert bfcl.score_item(item, [call("f", xs=values, box={"w": values[0]})]).ok


@needs_dev
@PROPERTY
@given(data=st.data())
def test_int_for_integral_float_passes_on_dev_items(data):
    candidates = [
        (item, i, param)
        for item in scored_dev_items()
        for i, c in enumerate(bfcl.reference_calls(item))
        for param, value in c["arguments"].items()
        if isinstance(value, float)
        and value.is_integer()
        and parameters_of(item, c["name"])["properties"][param].get("type") == "number"
    ]
    assume(candidates)
    item, i, param = data.draw(st.sampled_from(candidates))
    calls = bfcl.reference_calls(item)
    calls[i]["arguments"][param] = int(calls[i]["arguments"][param])
    assert bfcl.score_item(item, calls).ok


# ---------------------------------------------------------------------------
# Schema conversion
# ---------------------------------------------------------------------------


def test_conversion_maps_bfcl_types_and_keeps_json_schema_keywords():
    fn = {
        "name": "math.stats",
        "description": "Stats.",
        "parameters": {
            "type": "dict",
            "properties": {
                "data": {"type": "any", "description": "Anything."},
                "pair": {"type": "tuple", "items": {"type": "float"}, "minItems": 2, "maxItems": 2},
                "opts": {
                    "type": "dict",
                    "properties": {"mode": {"type": "string", "enum": ["a", "b"], "default": "a"}},
                    "required": ["mode"],
                },
                "flag": {"type": "boolean", "optional": "True", "default": False},
            },
            "required": ["data", "pair"],
            "optional": ["flag"],
        },
    }
    tool = bfcl.bfcl_function_to_tool(fn)
    assert tool == {
        "type": "function",
        "function": {
            "name": "math.stats",
            "description": "Stats.",
            "parameters": {
                "type": "object",
                "properties": {
                    "data": {"description": "Anything."},
                    "pair": {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2},
                    "opts": {
                        "type": "object",
                        "properties": {"mode": {"type": "string", "enum": ["a", "b"], "default": "a"}},
                        "required": ["mode"],
                    },
                    "flag": {"type": "boolean", "default": False},
                },
                "required": ["data", "pair"],
            },
        },
    }
    jsonschema.Draft202012Validator.check_schema(tool["function"]["parameters"])
    assert fn["parameters"]["properties"]["data"]["type"] == "any"  # the input is left alone


def test_conversion_keeps_unknown_keys_as_description_text():
    fn = {"name": "f", "parameters": {"type": "dict", "properties": {"x": {"type": "string", "unit": "cm"}}}}
    x = bfcl.bfcl_function_to_tool(fn)["function"]["parameters"]["properties"]["x"]
    assert x == {"type": "string", "description": '(unit: "cm")'}


def test_conversion_turns_a_list_of_item_schemas_into_prefix_items():
    fn = {"name": "f", "parameters": {"type": "dict", "properties": {"p": {"type": "tuple", "items": [{"type": "float"}, {"type": "string"}]}}}}
    p = bfcl.bfcl_function_to_tool(fn)["function"]["parameters"]["properties"]["p"]
    assert p == {"type": "array", "prefixItems": [{"type": "number"}, {"type": "string"}]}
    jsonschema.Draft202012Validator.check_schema(p)


@pytest.mark.parametrize(
    ("fn", "message"),
    [
        ({"name": "f", "parameters": {"type": "dict", "properties": {"x": {"type": "str"}}}}, "unknown type 'str'"),
        ({"name": "f", "parameters": {"type": "dict", "properties": {"x": 3}}}, "parameters.x: a schema must be"),
        ({"name": "f", "parameters": {"type": "dict", "properties": {}, "required": "x"}}, "'required' must be a list"),
        ({"name": "f", "parameters": {"type": "string"}}, "parameters must have type 'dict'"),
        ({"description": "no name"}, "non-empty string 'name'"),
    ],
)
def test_conversion_refuses_bad_schemas(fn, message):
    with pytest.raises(UserInputError, match=re.escape(message)):
        bfcl.bfcl_function_to_tool(fn)


BFCL_SCALARS = st.sampled_from(["string", "integer", "float", "boolean", "any"])


def bfcl_schemas():
    leaves = st.builds(
        lambda t, d, o: {"type": t, **({"description": d} if d else {}), **({"optional": True} if o else {})},
        BFCL_SCALARS,
        st.text(max_size=10),
        st.booleans(),
    )

    def containers(children):
        arrays = st.builds(lambda t, c: {"type": t, "items": c}, st.sampled_from(["array", "tuple"]), children)
        dicts = st.dictionaries(st.text(min_size=1, max_size=8), children, max_size=4).flatmap(
            lambda props: st.builds(
                lambda req: {"type": "dict", "properties": props, "required": req},
                st.lists(st.sampled_from(sorted(props)), unique=True) if props else st.just([]),
            )
        )
        return arrays | dicts

    return st.recursive(leaves, containers, max_leaves=12)


@PROPERTY
@given(properties=st.dictionaries(st.text(min_size=1, max_size=8), bfcl_schemas(), max_size=4))
def test_any_bfcl_schema_converts_to_valid_json_schema(properties):
    fn = {"name": "f.g", "description": "d", "parameters": {"type": "dict", "properties": properties, "required": []}}
    parameters = bfcl.bfcl_function_to_tool(fn)["function"]["parameters"]
    jsonschema.Draft202012Validator.check_schema(parameters)
    assert not BFCL_ONLY_TYPES & set(types_in(parameters))
    assert set(parameters["properties"]) == set(properties)


# ---------------------------------------------------------------------------
# Loading errors
# ---------------------------------------------------------------------------

GOOD_RECORD = {
    "id": "simple_python_0",
    "question": [[{"role": "user", "content": "Distance Paris to Berlin?"}]],
    "function": [DISTANCE],
    "ground_truth": [{"geo.distance": {"origin": ["Paris"], "destination": ["Berlin"]}}],
}


def write_lines(directory: Path, category: str, *records) -> Path:
    path = directory / f"{category}.jsonl"
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records))
    return path


def with_changes(**changes) -> dict:
    record = copy.deepcopy(GOOD_RECORD)
    record.update(changes)
    return {k: v for k, v in record.items() if v is not None}


@pytest.mark.parametrize(
    ("second_line", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "a record must be a JSON object, got array"),
        (with_changes(id="x", question=None), "missing key 'question'"),
        (with_changes(id="x", ground_truth=None), "missing key 'ground_truth'"),
        (with_changes(id="x", question=[[{"role": "user"}]]), "must be an object with string 'role' and 'content'"),
        (with_changes(id="x", function=[]), "'function' must be a non-empty list"),
        (with_changes(id="x", ground_truth=[{"nope": {}}]), "names 'nope', which is not among the functions"),
        (with_changes(id="x", ground_truth=[{"geo.distance": {"origin": "Paris"}}]), "must be a non-empty list of accepted values"),
        (with_changes(id="x", function=[{"name": "f", "parameters": {"type": "dict", "properties": {"a": {"type": "set"}}}}]), "unknown type 'set'"),
        (with_changes(id="x", function=[DISTANCE, DISTANCE]), "duplicate function names ['geo.distance']"),
        (with_changes(), "duplicate id 'simple_python_0' (first on line 1)"),
    ],
)
def test_bad_records_are_refused_naming_file_and_line(tmp_path, second_line, message):
    path = write_lines(tmp_path, "simple_python", GOOD_RECORD, second_line)
    with pytest.raises(UserInputError) as caught:
        bfcl.load_category(tmp_path, "simple")
    assert str(caught.value).startswith(f"{path}:2")
    assert message in str(caught.value)


def test_missing_file_empty_file_and_unknown_category(tmp_path):
    with pytest.raises(UserInputError, match="no file .*multiple.jsonl"):
        bfcl.load_category(tmp_path, "multiple")
    write_lines(tmp_path, "multiple")
    with pytest.raises(UserInputError, match="no records"):
        bfcl.load_category(tmp_path, "multiple")
    with pytest.raises(UserInputError, match="unknown BFCL category 'exec_simple'"):
        bfcl.load_category(tmp_path, "exec_simple")


def test_live_and_irrelevance_files_load_when_present(tmp_path):
    record = dict(GOOD_RECORD, id="live_simple_0")
    write_lines(tmp_path, "live_simple", "", record)
    (item,) = bfcl.load_category(tmp_path, "live_simple")
    assert (item.category, item.messages) == ("live_simple", record["question"][0])
    assert bfcl.score_item(item, bfcl.reference_calls(item)).ok
    write_lines(tmp_path, "live_irrelevance", {k: v for k, v in record.items() if k != "ground_truth"})
    (item,) = bfcl.load_category(tmp_path, "live_irrelevance")
    assert item.ground_truth is None
    assert bfcl.score_item(item, [call("geo.distance")]).reason.startswith("irrelevance: no call expected, 1 made")


# ---------------------------------------------------------------------------
# Predictions and summary
# ---------------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=8,
)
PREDICTIONS = st.lists(
    st.builds(
        bfcl.Prediction,
        id=st.text(min_size=1, max_size=10),
        calls=st.lists(
            st.fixed_dictionaries(
                {"name": st.text(max_size=10), "arguments": st.dictionaries(st.text(max_size=6), JSON_VALUES, max_size=3)}
            ),
            max_size=3,
        ),
        latency_s=st.none() | st.floats(0, 100),
    ),
    max_size=5,
    unique_by=lambda p: p.id,
)


@PROPERTY
@given(predictions=PREDICTIONS)
def test_predictions_round_trip(tmp_path_factory, predictions):
    path = tmp_path_factory.mktemp("predictions") / "out" / "predictions.jsonl"
    bfcl.write_predictions(path, predictions)
    assert bfcl.read_predictions(path) == predictions
    assert [p.name for p in path.parent.iterdir()] == ["predictions.jsonl"]  # no temp file left behind


def test_write_predictions_replaces_atomically_and_accepts_dicts(tmp_path):
    path = tmp_path / "p.jsonl"
    bfcl.write_predictions(path, [{"id": "a", "calls": [], "latency_s": 1}])
    before = path.read_text()
    assert json.loads(before) == {"id": "a", "calls": [], "latency_s": 1.0}
    with pytest.raises(UserInputError, match="prediction 'b' cannot be written as JSON"):
        bfcl.write_predictions(path, [bfcl.Prediction("b", [call("f", x=math.nan)], 0.1)])
    assert path.read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["p.jsonl"]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{oops", "not valid JSON"),
        ('{"id": "b", "calls": {}}', "'calls' must be a list"),
        ('{"id": "b", "calls": [{"name": "f", "arguments": "{}"}]}', "call 1: 'arguments' must be an object"),
        ('{"id": "b", "calls": [], "latency_s": -1}', "'latency_s' must be a finite number >= 0"),
        ('{"id": "a", "calls": []}', "duplicate id 'a' (first on line 1)"),
    ],
)
def test_bad_prediction_lines_are_refused_naming_file_and_line(tmp_path, line, message):
    path = tmp_path / "p.jsonl"
    path.write_text('{"id": "a", "calls": [], "latency_s": 0.5}\n' + line + "\n")
    with pytest.raises(UserInputError) as caught:
        bfcl.read_predictions(path)
    assert str(caught.value).startswith(f"{path}:2")
    assert message in str(caught.value)


def test_score_predictions_joins_by_id_and_summarize_reports_per_category():
    item = distance_item()
    other = make_item("multiple", [DISTANCE], item.ground_truth)
    good = [call("geo.distance", origin="Paris", destination="Berlin")]
    results = bfcl.score_predictions(
        [item, other], [bfcl.Prediction(other.id, [], 2.0), bfcl.Prediction(item.id, good, 1.0)]
    )
    assert [(r.id, r.ok, r.reason) for r in results] == [
        (item.id, True, ""),
        (other.id, False, "multiple: 1 call expected, 0 made"),
    ]
    with pytest.raises(UserInputError, match="no prediction for item"):
        bfcl.score_predictions([item, other], [bfcl.Prediction(item.id, good)])
    with pytest.raises(UserInputError, match="not given"):
        bfcl.score_predictions([item], [bfcl.Prediction(item.id, good), bfcl.Prediction("zz", [])])

    latencies = [0.1 * k for k in range(1, 11)]
    many = [bfcl.ItemResult(f"s{k}", "simple_python", k % 4 != 0, "", t) for k, t in enumerate(latencies)]
    many.append(bfcl.ItemResult("i0", "irrelevance", True, "", None))
    summary = bfcl.summarize(many)
    assert list(summary) == ["simple_python", "irrelevance"]
    simple = summary["simple_python"]
    assert (simple["count"], simple["correct"], simple["accuracy"]) == (10, 7, 0.7)
    assert simple["latency_median_s"] == pytest.approx(0.55)
    assert simple["latency_p90_s"] == pytest.approx(0.91)
    assert summary["irrelevance"] == {
        "count": 1, "correct": 1, "accuracy": 1.0, "latency_median_s": None, "latency_p90_s": None
    }
