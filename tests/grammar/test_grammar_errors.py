"""Errors of the grammar engine: unsupported keywords and constructs are refused by name,
text errors carry their position, and hostile inputs end in a GrammarError or a result
within limits (time, memory), never a crash."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from edgeagent import Grammar
from edgeagent.errors import GrammarError

import grammar_walk as gw
import hostile_cases

HERE = Path(__file__).resolve().parent

# ---------------------------------------------------------------- unsupported keywords
UNSUPPORTED = [
    ("patternProperties", {"^x": {"type": "integer"}}),
    ("uniqueItems", True),
    ("if", {"type": "array"}),
    ("then", {"type": "array"}),
    ("else", {"type": "array"}),
    ("not", {"type": "null"}),
    ("allOf", [{"type": "array"}]),
    ("contains", {"type": "integer"}),
    ("minContains", 1),
    ("multipleOf", 3),
    ("minProperties", 1),
    ("maxProperties", 1),
    ("propertyNames", {"maxLength": 3}),
    ("dependentRequired", {"a": ["b"]}),
    ("dependentSchemas", {"a": {}}),
    ("unevaluatedProperties", False),
    ("unevaluatedItems", False),
    ("$dynamicRef", "#meta"),
    ("contentEncoding", "base64"),
    ("x-made-up", 1),
]


@pytest.mark.parametrize("keyword,value", UNSUPPORTED, ids=[k for k, _ in UNSUPPORTED])
def test_unsupported_keyword_is_named_with_its_location(keyword, value):
    schema = {"type": "object", "properties": {"a": {"type": "array", keyword: value}}}
    with pytest.raises(GrammarError) as e:
        Grammar.from_json_schema(schema)
    msg = str(e.value)
    assert f"'{keyword}'" in msg and "/properties/a" in msg, msg
    with pytest.raises(GrammarError, match=re.escape(f"'{keyword}'")):  # validation mode too
        Grammar.from_json_schema(schema, validation=True)


def test_unsupported_keyword_in_a_tool_names_the_tool_and_the_keyword():
    tool = {"type": "function", "function": {"name": "lookup", "parameters": {
        "type": "object", "properties": {"ids": {"type": "array", "uniqueItems": True}}}}}
    for mode in ("auto", "required", "lookup"):
        with pytest.raises(GrammarError) as e:
            Grammar.from_tools([tool], mode=mode)
        msg = str(e.value)
        assert "lookup" in msg and "'uniqueItems'" in msg and "/properties/ids" in msg, msg


def test_lenient_ignores_unsupported_keywords_with_a_warning_naming_each(qwen):
    schema = {"type": "object",
              "properties": {"tags": {"type": "array", "items": {"type": "integer"}, "uniqueItems": True,
                                      "contains": {"const": 1}},
                             "n": {"type": "integer", "multipleOf": 5}},
              "required": ["tags"], "patternProperties": {"^x": {}}, "if": {"required": ["n"]}}
    with pytest.raises(GrammarError):
        Grammar.from_json_schema(schema)
    g = Grammar.from_json_schema(schema, lenient=True)
    expected = {("uniqueItems", "/properties/tags"), ("contains", "/properties/tags"),
                ("multipleOf", "/properties/n"), ("patternProperties", "(root)"), ("if", "(root)")}
    found = set()
    for w in g.warnings:
        m = re.search(r"'([^']+)' at (\S+)", w)
        assert m and "ignored" in w, w
        found.add((m.group(1), m.group(2)))
    assert found == expected, g.warnings
    # The keywords really are ignored: what they would forbid is accepted; the rest still holds.
    m = qwen.matcher(g)
    for text, ok in [('{"tags": [2, 2], "n": 3}', True), ('{"tags": [1]}', True), ('{"tags": ["a"]}', False),
                     ('{"n": 3}', False)]:
        m.reset()
        assert (m.accept_bytes(text.encode()) and m.can_terminate()) == ok, text


@pytest.mark.parametrize("schema,needle", [
    ({"type": "strin"}, "'strin'"),
    ({"type": "string", "maxLength": -1}, "'maxLength'"),
    ({"type": "string", "maxLength": 1.5}, "'maxLength'"),
    ({"required": "a"}, "'required'"),
    ({"type": "string", "pattern": "("}, "'pattern'"),
    ({"type": "string", "format": "ipv4"}, "format 'ipv4'"),
    ({"enum": "x"}, "'enum'"),
    ({"type": "integer", "minimum": "3"}, "'minimum'"),
    ({"type": "object", "properties": {"a": {"$ref": "#/$defs/missing"}}}, "'#/$defs/missing' at /properties/a"),
    ({"$ref": "https://example.com/schema.json"}, "remote $ref"),
    ({"$schema": "http://example.com/custom"}, "$schema"),
    ({"properties": {"a": 5}}, "/properties/a"),
])
def test_invalid_keyword_values_are_named(schema, needle):
    with pytest.raises(GrammarError) as e:
        Grammar.from_json_schema(schema)
    assert needle in str(e.value), str(e.value)


@pytest.mark.parametrize("text,line,column", [
    ('{"type": "string",\n  "maxLength": }', 2, 16),
    ('{"type": "string"', 1, 18),
    ("", 1, 1),
])
def test_schema_json_syntax_errors_carry_line_and_column(text, line, column):
    with pytest.raises(GrammarError, match=f"line {line}, column {column}"):
        Grammar.from_json_schema(text)


# ---------------------------------------------------------------- GBNF and regex
@pytest.mark.parametrize("text,line,column,what", [
    ('root ::= "a', 1, 10, "unterminated string"),
    ("root ::= foo", 1, 10, "undefined rule 'foo'"),
    ('root "a"', 1, 6, "'::='"),
    ("root ::= [a-", 1, 10, "character class"),
    ('root ::= "a"\nx ::= "\\q"', 2, 8, "escape"),
    ('root ::= ("a"', 1, 10, "'('"),
    ('root ::= "a" |\n  b\n', 2, 3, "undefined rule 'b'"),
    ('root ::= "a"{3,1}', 1, 13, "n < m"),
    ('x ::= "a"', 1, 1, "root rule 'root'"),
])
def test_gbnf_syntax_errors_carry_line_and_column(text, line, column, what):
    with pytest.raises(GrammarError) as e:
        Grammar.from_ebnf(text)
    msg = str(e.value)
    assert f"line {line}, column {column}" in msg and what in msg, msg


def test_gbnf_left_recursion_is_refused_naming_the_rule():
    with pytest.raises(GrammarError, match="left recursion.*'expr'"):
        Grammar.from_ebnf('root ::= expr\nexpr ::= expr "+" "1" | "1"')


@pytest.mark.parametrize("pattern,what", [
    (r"(a)\1", "backreference"),
    (r"(?<n>a)\k<n>", "backreference"),
    (r"(?=a)b", "lookahead"),
    (r"(?!a)b", "lookahead"),
    (r"(?<=a)b", "lookbehind"),
    (r"(?<!a)b", "lookbehind"),
    (r"\bfoo", "word boundary"),
    (r"a++", "possessive"),
    (r"a^b", "anchor '^'"),
])
def test_regex_unsupported_constructs_are_refused_by_name(pattern, what):
    with pytest.raises(GrammarError) as e:
        Grammar.from_regex(pattern)
    msg = str(e.value)
    assert what in msg and "position" in msg, msg
    with pytest.raises(GrammarError, match="'pattern'"):  # the same inside a schema names the keyword
        Grammar.from_json_schema({"type": "string", "pattern": pattern})


# ---------------------------------------------------------------- unsatisfiable schemas
UNSAT = [
    ({"type": "object", "properties": {"a": {"type": "integer", "minimum": 10, "maximum": 3}}, "required": ["a"]},
     ("minimum", "maximum"), "/properties/a"),
    ({"type": "object", "properties": {"a": {"enum": []}}, "required": ["a"]}, ("enum",), "/properties/a"),
    ({"type": "object", "properties": {"a": {"type": "string", "minLength": 9, "maxLength": 2}}, "required": ["a"]},
     ("minLength", "maxLength"), "/properties/a"),
]


@pytest.mark.parametrize("schema,keywords,where", UNSAT, ids=["min>max", "empty-enum", "minLength>maxLength"])
def test_unsatisfiable_schema_is_refused(schema, keywords, where):
    with pytest.raises(GrammarError, match="no valid JSON value"):
        Grammar.from_json_schema(schema)


@pytest.mark.parametrize("schema,keywords,where", UNSAT, ids=["min>max", "empty-enum", "minLength>maxLength"])
def test_unsatisfiable_schema_error_names_keyword_and_location(schema, keywords, where):
    with pytest.raises(GrammarError) as e:
        Grammar.from_json_schema(schema)
    msg = str(e.value)
    assert any(k in msg for k in keywords) and where in msg, msg


@pytest.mark.parametrize("schema,keywords,where", UNSAT, ids=["min>max", "empty-enum", "minLength>maxLength"])
def test_a_tool_nobody_can_call_is_refused_naming_it(schema, keywords, where):
    # Before: the tool silently dropped out of the alternation while the others stayed callable.
    ok = {"type": "function", "function": {"name": "ok", "parameters": {"type": "object", "properties": {}}}}
    bad = {"type": "function", "function": {"name": "broken_tool", "parameters": schema}}
    with pytest.raises(GrammarError) as e:
        Grammar.from_tools([ok, bad], mode="required")
    msg = str(e.value)
    assert "broken_tool" in msg and any(k in msg for k in keywords) and where in msg, msg


# ---------------------------------------------------------------- hostile inputs (child process)
# name -> ("error" | "either", substrings the error must contain, checks that must be true)
HOSTILE = {
    "depth_10000_items": ("error", ["nesting", "limit"], []),
    "depth_10000_properties": ("error", ["nesting", "limit"], []),
    "depth_10000_anyof": ("error", ["nesting", "limit"], []),
    "depth_10000_const_value": ("error", ["nesting", "limit"], []),
    "depth_100000_raw_json": ("error", ["nesting"], []),
    "max_items_1e9": ("either", ["'maxItems'", "limit"], ["accepts_3000_items", "refuses_object"]),
    "min_items_1e9": ("either", ["'minItems'", "limit"], ["refuses_3_items"]),
    "max_length_1e9": ("either", ["'maxLength'", "limit"], ["accepts_20000_chars", "refuses_number"]),
    "min_length_1e9": ("either", ["'minLength'", "limit"], ["refuses_short"]),
    "pattern_repeat_1e9": ("either", ["limit"], []),
    "enum_10000": ("ok", [], ["accepts_member", "refuses_non_member", "first_mask_nonempty"]),
    "enum_10000_objects": ("either", ["'enum'"], []),
    "enum_200000": ("either", ["'enum'", "limit"], []),
    "ref_self": ("error", ["no valid JSON value"], []),
    "ref_cycle": ("error", ["no valid JSON value"], []),
    "ref_required_recursion": ("error", ["no valid JSON value"], []),
    "ref_min_items_recursion": ("error", ["no valid JSON value"], []),
    "ref_recursive_with_base_case_deep_instance": ("ok", [], ["accepts_depth_1000", "depth_200000_is_bool"]),
    "minimum_gt_maximum": ("error", ["no valid JSON value"], []),
    "min_length_gt_max_length": ("error", ["no valid JSON value"], []),
    "required_30_any_order": ("either", ["limit"], []),
    "properties_5000": ("ok", [], ["accepts_last_only"]),
    "gbnf_deep_recursion": ("ok", [], ["accepts_depth_1000", "depth_200000_is_bool", "refuses_unbalanced"]),
    "gbnf_nested_groups_10000": ("either", ["line 1", "column"], []),
    "gbnf_rule_chain_5000": ("either", [], []),
    "gbnf_huge_repetition": ("either", ["limit", "line 1"], []),
    "regex_nested_repetition": ("either", ["too large"], []),
    "regex_nested_groups_10000": ("either", ["position"], []),
}
TIME_LIMIT_S = 5.0       # compile, and separately the matcher checks (which load the model once)
MEMORY_LIMIT_MB = 2048   # peak RSS of the child, the Qwen model included


def test_every_hostile_case_has_an_expectation():
    assert set(HOSTILE) == set(hostile_cases.CASES)


@pytest.fixture(scope="module")
def hostile_results():
    proc = subprocess.run([sys.executable, str(HERE / "hostile_cases.py"), *HOSTILE], capture_output=True, text=True,
                          timeout=300, cwd=HERE)
    results, started = {}, []
    for line in proc.stdout.splitlines():
        if line.startswith("START "):
            started.append(line.split(" ", 1)[1])
        elif line.startswith("RESULT "):
            r = json.loads(line.split(" ", 1)[1])
            results[r["name"]] = r
    crashed = started[-1] if started and started[-1] not in results else None
    return results, crashed, proc


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_input_ends_in_error_or_result_within_limits(hostile_results, name):
    results, crashed, proc = hostile_results
    if name not in results:
        pytest.fail(f"the child process died (exit {proc.returncode}) in case {crashed!r} before reaching {name!r}; "
                    f"stderr: {proc.stderr[-1500:]}")
    r = results[name]
    expected, needles, checks = HOSTILE[name]
    gw.REPORT.append(f"hostile {name:45s} {r['outcome']:5s} {r['seconds']:6.3f}s "
                     f"{r.get('message', '') or r.get('checks', '')}"[:220])
    assert r["outcome"] in ("error", "ok"), r  # never another exception type
    assert r["seconds"] < TIME_LIMIT_S, r
    assert r["maxrss_mb"] < MEMORY_LIMIT_MB, r
    if expected == "error":
        assert r["outcome"] == "error", r
    if expected == "ok":
        assert r["outcome"] == "ok", r
    if r["outcome"] == "error":
        assert r["type"] == "GrammarError"
        assert any(n in r["message"] for n in needles) if needles else True, r
    else:
        assert r.get("check_seconds", 0) < TIME_LIMIT_S, r
        got = r.get("checks", {})
        assert all(got.get(c) is True for c in checks), r
