"""The guard with the real Qwen model: tools switched off and argument schemas narrowed
at decode time, refused calls reported, and the ReAct spec judged on the model's text."""

from __future__ import annotations

import pytest

from edgeagent import Guard
from edgeagent.agent import Agent
from edgeagent.react import check_react
from edgeagent.tool import ToolRegistry
from edgeagent.tools import local_tools


@pytest.fixture(scope="module")
def agent(qwen):
    return Agent(engine=qwen)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return tmp_path_factory.mktemp("assistant-data")


def test_denied_tool_is_switched_off_in_the_grammar(agent, data):
    tools = local_tools(data, domains=["messages"])
    query = "Send a message to ana@example.com saying hi"
    free = agent.call(query, tools, mode="required")
    assert "send_message" in [c.name for c in free.calls]  # what the model does unguarded
    guard = Guard.from_text("rule no_send: deny call(send_message) because \"no sending today\"", tools)
    guarded = agent.call(query, tools, mode="required", guard=guard)
    assert guarded.disabled_tools == ["send_message"]
    assert guarded.calls and "send_message" not in [c.name for c in guarded.calls]
    assert guarded.to_dict()["disabled_tools"] == ["send_message"]


def test_argument_bounds_narrow_the_schema(agent, data):
    tools = local_tools(data, domains=["reminders"])
    query = "Set a timer for 45 minutes"
    free = agent.call(query, tools, mode="required")
    assert [c.arguments.get("minutes") for c in free.calls if c.name == "set_timer"] == [45]
    guard = Guard.from_text("rule short_timers: deny call(set_timer, minutes > 30)", tools)
    guarded = agent.call(query, tools, mode="required", guard=guard)
    timers = [c for c in guarded.calls if c.name == "set_timer"]
    assert timers and all(c.arguments["minutes"] <= 30 for c in timers)
    assert guarded.denied == []


def test_calls_the_grammar_cannot_prevent_are_reported_as_denied(agent, data):
    tools = ToolRegistry([local_tools(data, domains=["notes"]).get("create_note")])
    guard = Guard.from_text("rule no_secrets: deny call(create_note, title matches /[Ss]ecret/)", tools)
    result = agent.call("Create a note titled Secret plans with body: buy a boat", tools, mode="required",
                        parallel=False, guard=guard)
    assert result.calls == []
    [denied] = result.denied
    assert denied.name == "create_note" and "ecret" in denied.arguments["title"]
    assert (denied.verdict.action, denied.verdict.rule) == ("deny", "no_secrets")
    assert result.to_dict()["denied"][0]["verdict"]["rule"] == "no_secrets"


REACT_SYSTEM = ("Answer the question using the ReAct format. Use exactly these lines:\n"
                "Thought: your reasoning\nAction: the tool to use, one of [calculate]\n"
                "Action Input: the input to the tool\nObservation: the result of the tool\n"
                "... (repeat Thought/Action/Action Input/Observation as needed)\n"
                "Thought: I now know the final answer\nFinal Answer: the answer")
NO_THOUGHT_SYSTEM = ("Answer using only these lines, with no Thought lines:\n"
                     "Action: the tool to use, one of [calculate]\nAction Input: the input to the tool\n"
                     "Observation: the result\nFinal Answer: the answer")


def test_react_spec_on_the_models_output(qwen):
    guard = Guard.from_file("react")
    question = "What is 17 * 23?"
    follows = qwen.chat([{"role": "system", "content": REACT_SYSTEM}, {"role": "user", "content": question}],
                        max_tokens=120)
    report = check_react(guard, follows.text, user=question)
    kinds = [e.name for e in report.events]
    assert kinds[0] == "thought" and "action" in kinds and kinds[-1] == "final_answer"
    assert report.violation is None, (follows.text, report.verdicts, report.final)

    strays = qwen.chat([{"role": "system", "content": NO_THOUGHT_SYSTEM}, {"role": "user", "content": question}],
                       max_tokens=120)
    report = check_react(guard, strays.text, user=question)
    assert report.violation is not None, strays.text  # the model left the ReAct format
    assert report.violation.rule in ("action_needs_thought", "ends_with_answer")


def test_engine_disabled_tools_switches_grammar_gates(gemma):
    from edgeagent import Grammar
    from edgeagent.errors import GrammarError, InvalidParameterError

    tools = [{"type": "function", "function": {"name": n, "parameters": {"type": "object", "properties": {}}}}
             for n in ("alpha_tool", "beta_tool")]
    grammar = Grammar.from_tools(tools, mode="required")
    with pytest.raises(InvalidParameterError, match="needs a tool-call grammar"):
        gemma.generate("Call a tool:", disabled_tools=["alpha_tool"], max_tokens=4)
    with pytest.raises(GrammarError):
        gemma.generate("Call a tool:", grammar=grammar, disabled_tools=["gamma_tool"], max_tokens=4)
    for off, on in (("alpha_tool", "beta_tool"), ("beta_tool", "alpha_tool")):
        out = gemma.generate("Call a tool:", grammar=grammar, disabled_tools=[off], max_tokens=40)
        assert f'"name": "{on}"' in out.text and off not in out.text
