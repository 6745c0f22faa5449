"""The plan schema: only offered tools, valid arguments, references to earlier steps only."""

from __future__ import annotations

import json

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgeagent import Grammar, Planner
from edgeagent.errors import InvalidParameterError
from edgeagent.planner import plan_schema, references_in
from edgeagent.request import clauses
from edgeagent.tools import local_tools


@pytest.fixture(scope="module")
def tools(tmp_path_factory):
    reg = local_tools(tmp_path_factory.mktemp("data"))
    return [reg.get(n) for n in ("find_contact", "send_message", "create_note", "set_timer", "search_notes")]


def valid(schema, plan) -> bool:
    return jsonschema.Draft202012Validator(schema).is_valid(plan)


def test_plan_schema_compiles_with_the_native_engine(tools):
    g = Grammar.from_json_schema(plan_schema(tools, 6, 2))
    assert g.warnings == []


def test_references_only_to_earlier_steps(tools):
    schema = plan_schema(tools, 4)
    find = {"name": "find_contact", "arguments": {"query": "Ana"}}
    assert valid(schema, [find, {"name": "send_message", "arguments": {"to": "$1.email", "body": "hi"}}])
    assert valid(schema, [find, {"name": "set_timer", "arguments": {"minutes": "$1"}}])  # any type may be a reference
    assert not valid(schema, [{"name": "send_message", "arguments": {"to": "$1.email", "body": "hi"}}])  # itself
    assert not valid(schema, [find, {"name": "send_message", "arguments": {"to": "$3", "body": "x"}}])  # later
    assert not valid(schema, [{"name": "set_timer", "arguments": {"minutes": "$0"}}])
    # A dollar amount is text, not a reference.
    assert valid(schema, [{"name": "create_note", "arguments": {"title": "$5 budget"}}])


def test_only_offered_tools_and_schema_valid_arguments(tools):
    schema = plan_schema(tools, 3)
    assert not valid(schema, [{"name": "delete_note", "arguments": {"note_id": 1}}])
    assert not valid(schema, [{"name": "set_timer", "arguments": {"minutes": "ten"}}])
    assert not valid(schema, [{"name": "create_note", "arguments": {}}])  # title is required
    assert not valid(schema, [{"name": "send_message", "arguments": {"to": "Bob"}}])  # body is required
    assert not valid(schema, [{"name": "search_notes", "arguments": {}}])  # all optional: one needed
    assert valid(schema, [{"name": "search_notes", "arguments": {"tag": "work"}}])
    assert not valid(schema, [])
    assert not valid(schema, [{"name": "set_timer", "arguments": {"minutes": 1}}] * 4)  # max_steps


def test_min_steps(tools):
    schema = plan_schema(tools, 4, min_steps=2)
    one = {"name": "set_timer", "arguments": {"minutes": 5}}
    assert not valid(schema, [one])
    assert valid(schema, [one, one])


def test_bad_limits(tools):
    with pytest.raises(InvalidParameterError):
        plan_schema(tools, 0)
    with pytest.raises(InvalidParameterError):
        plan_schema([], 3)
    with pytest.raises(InvalidParameterError, match="first_step"):
        plan_schema(tools, 3, first_step=0)


step_refs = st.lists(st.lists(st.integers(0, 7), max_size=2), min_size=1, max_size=6)


@settings(max_examples=150, deadline=None)
@given(step_refs, st.integers(1, 4))
def test_a_plan_is_valid_exactly_when_every_reference_is_to_an_earlier_step(tools, refs, first_step):
    # a plan numbered from first_step may also name the calls made before it (1..first_step-1)
    schema = plan_schema(tools, 6, first_step=first_step)
    plan = []
    for rs in refs:
        to = f"${rs[0]}.email" if rs else "Ana"
        body = f"${rs[1]}" if len(rs) > 1 else "hello"
        plan.append({"name": "send_message", "arguments": {"to": to, "body": body}})
    earlier_only = all(1 <= r < i for i, rs in enumerate(refs, start=first_step) for r in rs)
    assert valid(schema, plan) == earlier_only
    assert all(references_in(s["arguments"]) == set(rs) for s, rs in zip(plan, refs))


def test_model_writes_a_plan_over_the_offered_tools(planner_engine, tools):
    planner = Planner(planner_engine)
    q = "Find Ana's email and send her a message saying hello"
    plan = planner.plan([{"role": "user", "content": q}], tools, min_steps=len(clauses(q)))
    names = {t.name for t in tools}
    assert 2 <= len(plan) <= planner.max_steps
    assert all(s.tool in names for s in plan.steps)
    assert all(r < s.index for s in plan.steps for r in s.depends_on())
    assert valid(plan_schema(tools, planner.max_steps, 2), [{"name": s.tool, "arguments": s.arguments}
                                                             for s in plan.steps])


def test_plan_arguments_keep_references_and_what_the_conversation_mentions(tmp_path):
    from edgeagent.grounding import conversation_facts
    from edgeagent.planner import _grounded

    event = local_tools(tmp_path).get("create_event")
    facts = conversation_facts([
        {"role": "system", "content": "Location: Berlin. Recurrence: daily."},  # instructions are not facts
        {"role": "user", "content": "Coffee with Grace on Monday at 8am (2026-03-16T08:00)"},
        {"role": "tool", "content": '{"place": "Blue Cafe"}'}])
    assert facts.numbers == {8}  # "8am"; not the parts of the date the assistant wrote (2026, 3, 16, 0)
    args = {"title": "Coffee with Grace", "start": "2026-03-16T08:00", "location": "Berlin",
            "recurrence": "daily", "recurrence_count": 0, "description": "$1.place"}
    assert _grounded(args, event, facts) == {"title": "Coffee with Grace", "start": "2026-03-16T08:00",
                                             "description": "$1.place"}
    assert _grounded(dict(args, location="Blue Cafe"), event, facts)["location"] == "Blue Cafe"  # a tool said it


def test_examples_from_the_tool_documentation_are_not_arguments(tmp_path):
    """A value the model copied from a description's "e.g." (and the request does not
    state) is no argument: the call is dropped if it fills a required one, else the argument."""
    from edgeagent.planner import _is_example, _unsaid_examples

    tools = list(local_tools(tmp_path))
    asked = [{"role": "user", "content": "Convert 180 pounds to kg and send it to Emma (2026-03-14)."}]
    examples = _unsaid_examples(tools, asked)
    assert "ana lópez" in examples and "meeting with ana" in examples  # add_contact, create_event
    assert _is_example("Ana López", examples) and _is_example({"x": ["Meeting with Ana"]}, examples)
    assert _is_example("2025-03-14T18:45", examples)  # the example's date with another time
    for said in ("Emma", "kg", "2026-03-14T09:30", "Call Bob", "pounds"):
        assert not _is_example(said, examples), said
    # Said in the conversation, an example is the user's own value.
    assert "ana lópez" not in _unsaid_examples(tools, [{"role": "user", "content": "Add Ana López to my contacts"}])



def test_a_call_made_up_from_the_documentation_is_dropped(tmp_path):
    from edgeagent.planner import _unsaid_examples, _without_examples

    registry = local_tools(tmp_path)
    examples = _unsaid_examples(list(registry), [{"role": "user", "content": "Email Bob the report."}])
    contact, event = registry.get("add_contact"), registry.get("create_event")
    assert _without_examples({"name": "Ana López", "email": "ana@x.org"}, contact, examples) is None
    assert _without_examples({"name": "Bob", "phone": "+34 600 123 456"}, contact, examples) == {"name": "Bob"}
    args = {"title": "Report review", "start": "2026-03-14T10:00"}
    assert _without_examples(args, event, examples) == args
