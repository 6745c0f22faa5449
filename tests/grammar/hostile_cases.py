"""Hostile grammar inputs, run in a child process by test_grammar_errors.py so that a crash
(abort, segfault, stack overflow) is caught and named instead of killing pytest.

    python hostile_cases.py NAME...   prints "START name" then "RESULT {json}" per case.

Each case compiles something hostile and reports {"outcome": "error"|"ok", "message",
"seconds"}; cases that compile also exercise a matcher on the Qwen vocabulary and report
what it did ("checks").
"""

from __future__ import annotations

import json
import resource
import sys
import time

DEPTH = 10_000


def _nested(prefix: str, leaf: str, suffix: str, depth: int) -> str:
    return prefix * depth + leaf + suffix * depth


_engine = None


def engine():
    global _engine
    if _engine is None:
        from edgeagent import Engine, models

        _engine = Engine(models.resolve("qwen2.5-coder-0.5b-instruct-q4_k_m"), n_ctx=256, n_threads=1)
    return _engine


def accepts(matcher, text: str) -> bool:
    matcher.reset()
    return matcher.accept_bytes(text.encode()) and matcher.can_terminate()


def _deep(matcher, text: str) -> dict:
    """A nesting deeper than GrammarLimits::max_stack_depth (100,000): refused or accepted, no crash."""
    got = accepts(matcher, text)
    return {"depth_200000_is_bool": isinstance(got, bool), "depth_200000_accepted": got}


def schema(text_or_obj, **kw):
    from edgeagent import Grammar

    return Grammar.from_json_schema(text_or_obj, **kw)


# Each case: () -> grammar (compile step, timed) and optional check(grammar) -> dict.
def case_depth_10000_items():
    return schema(_nested('{"type": "array", "items": ', '{"type": "integer"}', "}", DEPTH)), None


def case_depth_10000_properties():
    return schema(_nested('{"type": "object", "properties": {"a": ', "{}", "}}", DEPTH)), None


def case_depth_10000_anyof():
    return schema(_nested('{"anyOf": [{"type": "null"}, ', "{}", "]}", DEPTH)), None


def case_depth_10000_const_value():
    return schema('{"const": ' + _nested("[", "1", "]", DEPTH) + "}"), None


def case_depth_100000_raw_json():
    return schema(_nested("[", "", "]", 100_000)), None


def case_max_items_1e9():
    g = schema({"type": "array", "items": {"type": "integer"}, "maxItems": 10**9})

    def check(g):
        m = engine().matcher(g)
        return {"accepts_3000_items": accepts(m, json.dumps(list(range(3000)))), "refuses_object": not accepts(m, "{}")}
    return g, check


def case_min_items_1e9():
    g = schema({"type": "array", "minItems": 10**9})

    def check(g):
        m = engine().matcher(g)
        return {"refuses_3_items": not accepts(m, "[1, 2, 3]")}
    return g, check


def case_max_length_1e9():
    g = schema({"type": "string", "maxLength": 10**9})

    def check(g):
        m = engine().matcher(g)
        return {"accepts_20000_chars": accepts(m, json.dumps("ab" * 10_000)), "refuses_number": not accepts(m, "1")}
    return g, check


def case_min_length_1e9():
    g = schema({"type": "string", "minLength": 10**9})

    def check(g):
        m = engine().matcher(g)
        return {"refuses_short": not accepts(m, '"abc"')}
    return g, check


def case_pattern_repeat_1e9():
    return schema({"type": "string", "pattern": "^a{1000000000}$"}), None


def case_enum_10000():
    members = [f"member-{i}" for i in range(10_000)]
    g = schema({"enum": members})

    def check(g):
        m = engine().matcher(g)
        t = time.perf_counter()
        mm = engine().matcher(g)
        mask = mm.fill_next_token_bitmask()
        first_mask = time.perf_counter() - t
        return {"accepts_member": accepts(m, '"member-7777"') and accepts(m, '"member-0"'),
                "refuses_non_member": not accepts(m, '"member-10000"') and not accepts(m, '"member-"'),
                "first_mask_nonempty": bool(mask.any()), "first_mask_seconds": round(first_mask, 3)}
    return g, check


def case_enum_10000_objects():
    return schema({"enum": [{"id": i, "tag": [i, str(i)]} for i in range(10_000)]}), None


def case_enum_200000():
    return schema({"enum": list(range(200_000))}), None


def case_ref_self():
    return schema({"$ref": "#"}), None


def case_ref_cycle():
    return schema({"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"}), None


def case_ref_required_recursion():
    return schema({"type": "object", "properties": {"x": {"$ref": "#"}}, "required": ["x"]}), None


def case_ref_min_items_recursion():
    return schema({"type": "array", "items": {"$ref": "#"}, "minItems": 1}), None


def case_ref_recursive_with_base_case_deep_instance():
    g = schema({"type": "array", "items": {"$ref": "#"}})

    def check(g):
        m = engine().matcher(g)
        return {"accepts_depth_1000": accepts(m, _nested("[", "", "]", 1000)),
                **_deep(m, _nested("[", "", "]", 200_000))}
    return g, check


def case_minimum_gt_maximum():
    return schema({"type": "integer", "minimum": 10, "maximum": 3}), None


def case_min_length_gt_max_length():
    return schema({"type": "string", "minLength": 10, "maxLength": 3}), None


def case_required_30_any_order():
    props = {f"p{i}": {"type": "integer"} for i in range(30)}
    return schema({"type": "object", "properties": props, "required": list(props)}, validation=True), None


def case_properties_5000():
    props = {f"p{i}": {"type": "integer"} for i in range(5000)}
    g = schema({"type": "object", "properties": props, "required": ["p4999"]})

    def check(g):
        m = engine().matcher(g)
        return {"accepts_last_only": accepts(m, '{"p4999": 1}')}
    return g, check


def case_gbnf_deep_recursion():
    from edgeagent import Grammar

    g = Grammar.from_ebnf('root ::= "(" root ")" | "x"')

    def check(g):
        m = engine().matcher(g)
        return {"accepts_depth_1000": accepts(m, "(" * 1000 + "x" + ")" * 1000),
                **_deep(m, "(" * 200_000 + "x" + ")" * 200_000),
                "refuses_unbalanced": not accepts(m, "((x)")}
    return g, check


def case_gbnf_nested_groups_10000():
    from edgeagent import Grammar

    return Grammar.from_ebnf("root ::= " + _nested("(", '"a"', ")", DEPTH)), None


def case_gbnf_rule_chain_5000():
    from edgeagent import Grammar

    n = 5000  # compile time grows about quadratically with the chain (10,000 rules: ~3.7 s)
    rules = [f"r{i} ::= r{i + 1} | \"{i % 10}\"" for i in range(n)] + [f'r{n} ::= "end"']
    return Grammar.from_ebnf("root ::= r0\n" + "\n".join(rules)), None


def case_gbnf_huge_repetition():
    from edgeagent import Grammar

    return Grammar.from_ebnf('root ::= "a"{1000000000}'), None


def case_regex_nested_repetition():
    from edgeagent import Grammar

    return Grammar.from_regex("((a{1000}){1000}){1000}"), None


def case_regex_nested_groups_10000():
    from edgeagent import Grammar

    return Grammar.from_regex(_nested("(", "a", ")", DEPTH)), None


CASES = {name[len("case_"):]: fn for name, fn in globals().items() if name.startswith("case_")}


def peak_rss_mb() -> int:
    """This process's peak RSS. ru_maxrss is not it: Linux carries the high-water mark of
    the forked parent (here: the pytest process, models loaded) across exec; VmHWM
    belongs to the new address space."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def run(name: str) -> dict:
    from edgeagent.errors import GrammarError

    t = time.perf_counter()
    try:
        grammar, check = CASES[name]()
    except GrammarError as e:
        return {"outcome": "error", "type": type(e).__name__, "message": str(e)[:300],
                "seconds": round(time.perf_counter() - t, 3)}
    except Exception as e:  # not a GrammarError: reported, and the test fails
        return {"outcome": "other-exception", "type": type(e).__name__, "message": str(e)[:300],
                "seconds": round(time.perf_counter() - t, 3)}
    seconds = time.perf_counter() - t
    out = {"outcome": "ok", "seconds": round(seconds, 3), "nodes": grammar._native.num_nodes}
    if check is not None:
        engine()  # loaded outside the timing
        t = time.perf_counter()
        try:
            out["checks"] = check(grammar)
        except GrammarError as e:
            out["checks"] = {"grammar_error": str(e)[:300]}
        out["check_seconds"] = round(time.perf_counter() - t, 3)
    return out


if __name__ == "__main__":
    for name in sys.argv[1:]:
        print("START", name, flush=True)
        result = run(name)
        result["maxrss_mb"] = peak_rss_mb()
        print("RESULT", json.dumps({"name": name, **result}), flush=True)
