"""The official JSON Schema Test Suite (draft 2020-12) against the grammar engine in
validation mode: every schema is either refused by name (GrammarError naming one of its
keywords) or compiled, and then each instance (json.dumps) is accepted at byte level iff
the suite says it is valid. One test per file; per-file counts in the run's summary."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgeagent import Grammar
from edgeagent.errors import GrammarError

import grammar_walk as gw

SUITE = gw.SUITE_DIR
FILES = sorted(p.name for p in SUITE.glob("*.json")) if SUITE.is_dir() else []

# Every keyword of the 2020-12 vocabularies (core, applicator, unevaluated, validation,
# meta-data, format, content) plus the pre-2019 ones still seen in the wild.
KEYWORDS = {
    "$schema", "$id", "$ref", "$anchor", "$dynamicRef", "$dynamicAnchor", "$vocabulary", "$comment", "$defs",
    "prefixItems", "items", "contains", "additionalProperties", "properties", "patternProperties",
    "dependentSchemas", "propertyNames", "if", "then", "else", "allOf", "anyOf", "oneOf", "not",
    "unevaluatedItems", "unevaluatedProperties", "type", "const", "enum", "multipleOf", "maximum",
    "exclusiveMaximum", "minimum", "exclusiveMinimum", "maxLength", "minLength", "pattern", "maxItems",
    "minItems", "uniqueItems", "maxContains", "minContains", "maxProperties", "minProperties", "required",
    "dependentRequired", "title", "description", "default", "deprecated", "readOnly", "writeOnly", "examples",
    "format", "contentEncoding", "contentMediaType", "contentSchema", "definitions", "dependencies",
    "$recursiveRef", "$recursiveAnchor", "additionalItems",
}
UNSATISFIABLE = "admits no valid JSON value"


def schema_keywords(node) -> set[str]:
    found = set()
    if isinstance(node, dict):
        found |= KEYWORDS & set(node)
        for v in node.values():
            found |= schema_keywords(v)
    elif isinstance(node, list):
        for v in node:
            found |= schema_keywords(v)
    return found


@dataclass
class FileResult:
    groups: int = 0
    compiled: int = 0
    refused: int = 0
    refused_unsatisfiable: int = 0
    cases: int = 0
    agreed: int = 0
    refused_cases: int = 0
    problems: list = field(default_factory=list)


def accepts(matcher, data) -> bool:
    matcher.reset()
    return matcher.accept_bytes(json.dumps(data).encode()) and matcher.can_terminate()


TOTAL: list[FileResult] = []


def run_file(engine, name: str) -> FileResult:
    r = FileResult()
    for group in json.loads((SUITE / name).read_text()):
        r.groups += 1
        schema, desc = group["schema"], group["description"]
        try:
            grammar = Grammar.from_json_schema(schema, validation=True)
        except GrammarError as e:
            r.refused += 1
            r.refused_cases += len(group["tests"])
            msg = str(e)
            if UNSATISFIABLE in msg:
                # No keyword to name for `false`; the refusal must at least be right.
                r.refused_unsatisfiable += 1
                if any(t["valid"] for t in group["tests"]):
                    r.problems.append(f"[{desc}] refused as unsatisfiable, but the suite has valid instances")
            elif not any(k in msg for k in schema_keywords(schema)):
                r.problems.append(f"[{desc}] refused without naming a keyword of the schema: {msg}")
            continue
        r.compiled += 1
        matcher = engine.matcher(grammar)
        for test in group["tests"]:
            r.cases += 1
            got = accepts(matcher, test["data"])
            if got == test["valid"]:
                r.agreed += 1
            else:
                r.problems.append(f"[{desc}] {test['description']}: {json.dumps(test['data'])[:120]} "
                                  f"valid={test['valid']} but the grammar {'accepts' if got else 'refuses'} it")
    return r


@pytest.mark.skipif(not FILES, reason=f"{SUITE} is absent")
@pytest.mark.parametrize("name", FILES)
def test_suite_file(qwen, name):
    r = run_file(qwen, name)
    share = f"{100.0 * r.agreed / r.cases:.1f}%" if r.cases else "n/a"
    gw.REPORT.append(f"JSON-Schema-Test-Suite {name:32s} schemas {r.compiled:2d} compiled / {r.refused:2d} refused "
                     f"by name ({r.refused_unsatisfiable} as unsatisfiable); instances {r.agreed}/{r.cases} "
                     f"agree ({share}); {r.refused_cases} instances under refused schemas")
    TOTAL.append(r)
    assert not r.problems, "\n".join(r.problems)


@pytest.mark.skipif(not FILES, reason=f"{SUITE} is absent")
def test_suite_totals():
    if len(TOTAL) != len(FILES):
        pytest.skip("not every suite file ran in this session")
    groups, compiled = sum(r.groups for r in TOTAL), sum(r.compiled for r in TOTAL)
    cases, agreed = sum(r.cases for r in TOTAL), sum(r.agreed for r in TOTAL)
    gw.REPORT.append(f"JSON-Schema-Test-Suite total: {compiled}/{groups} schemas compiled, the rest refused by name; "
                     f"{agreed}/{cases} instances of the compiled schemas agree with 'valid'")
    assert agreed == cases


@pytest.mark.skipif(not FILES, reason=f"{SUITE} is absent")
def test_ref_remote_is_refused_clearly():
    for group in json.loads((SUITE / "refRemote.json").read_text()):
        with pytest.raises(GrammarError) as e:
            Grammar.from_json_schema(group["schema"], validation=True)
        msg = str(e.value)
        assert "$ref" in msg and ("remote" in msg or "$schema" in msg or "unsupported" in msg), msg


# ---------------------------------------------------------------- beyond the suite
# Validation mode claims JSON Schema semantics; these numbers are valid per the spec
# (and per the jsonschema library) but written in exponent form.
EXPONENT_CASES = [
    ({"type": "integer"}, "1e2"),
    ({"type": "integer"}, "1.0e2"),
    ({"type": "integer", "minimum": 0}, "1E2"),
    ({"type": "number", "minimum": 100}, "1e3"),
    ({"type": "number", "maximum": 1}, "100e-2"),
]


@pytest.mark.parametrize("schema,text", EXPONENT_CASES, ids=[t for _, t in EXPONENT_CASES])
def test_validation_mode_accepts_numbers_in_exponent_form(qwen, schema, text):
    import jsonschema

    assert jsonschema.Draft202012Validator(schema).is_valid(json.loads(text))
    assert _accepts_text(qwen, schema, text)


def _accepts_text(engine, schema, text) -> bool:
    m = engine.matcher(Grammar.from_json_schema(schema, validation=True))
    return m.accept_bytes(text.encode()) and m.can_terminate()


def test_validation_mode_exponent_numbers_out_of_bounds_are_refused(qwen):
    """The sound half of the above: exponent forms beyond the bounds are never accepted."""
    for schema, text in [({"type": "number", "maximum": 4}, "0.5e1"), ({"type": "number", "maximum": 5}, "1e400"),
                         ({"type": "integer", "maximum": 0}, "1e2"), ({"type": "number", "minimum": 100}, "1e1")]:
        assert not _accepts_text(qwen, schema, text), (schema, text)


_mantissa = st.one_of(st.integers(-10**4, 10**4).map(str),
                      st.tuples(st.integers(-999, 999), st.integers(0, 999)).map(lambda t: f"{t[0]}.{t[1]:03d}"))
_exponent = st.tuples(st.sampled_from("eE"), st.sampled_from(["", "+", "-"]), st.integers(0, 7), st.booleans()).map(
    lambda t: f"{t[0]}{t[1]}{'0' if t[3] else ''}{t[2]}")
_bound = st.one_of(st.none(), st.integers(-2000, 2000), st.decimals(-2000, 2000, places=2, allow_nan=False).map(float))


@settings(max_examples=300, deadline=None)
@given(_mantissa, _exponent, _bound, _bound, st.booleans(), st.booleans())
def test_validation_mode_numbers_in_exponent_form_match_their_value(qwen, mantissa, exponent, lo, hi, integer,
                                                                  exclusive):
    from decimal import Decimal
    from fractions import Fraction

    text = mantissa + exponent
    schema: dict = {"type": "integer" if integer else "number"}
    if lo is not None:
        schema["exclusiveMinimum" if exclusive else "minimum"] = lo
    if hi is not None:
        schema["maximum"] = hi
    value = Fraction(Decimal(text))
    expected = (not integer or value.denominator == 1) and \
        (lo is None or (value > Fraction(Decimal(str(lo))) if exclusive else value >= Fraction(Decimal(str(lo))))) and \
        (hi is None or value <= Fraction(Decimal(str(hi))))
    # Mantissas with a non-zero fraction are not read as integers (1.5e1): only the sound half then.
    exact = not integer or "." not in mantissa or int(mantissa.split(".")[1]) == 0
    try:
        accepted = _accepts_text(qwen, schema, text)
    except GrammarError:
        return  # e.g. bounds that leave no value: refused as a whole, not by instance
    if exact:
        assert accepted == expected, (schema, text)
    else:
        assert not accepted or expected, (schema, text)
