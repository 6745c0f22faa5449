"""The guard with the real Qwen model: tools switched off and argument schemas narrowed
at decode time, refused calls reported, and the ReAct spec judged on the model's text."""

from __future__ import annotations

import json

import pytest

from edgeagent import Guard, GuardEvent
from edgeagent.agent import Agent
from edgeagent.errors import ToolArgumentError
from edgeagent.react import react_events
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
    assert "send_message" in guarded.disabled_tools  # besides those retrieval puts far below the best
    assert guarded.calls and "send_message" not in [c.name for c in guarded.calls]
    assert guarded.to_dict()["disabled_tools"] == guarded.disabled_tools


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
NO_THOUGHT_SYSTEM = ("You call tools. Reply with exactly two lines and nothing else:\n"
                     "Action: calculate\nAction Input: <the expression>")


def run_react(engine, guard, system, question, tools, max_steps=3):
    """A minimal ReAct loop under the guard: the model writes until "Observation:", every
    step is judged before anything runs, a refused step ends the loop, an Action runs the
    real calculate tool and its result goes back as the Observation."""
    prompt = engine.render_chat([{"role": "system", "content": system}, {"role": "user", "content": question}])
    guard.reset()
    guard.step(GuardEvent.user(question))
    transcript, steps, ran = "", [], []
    for _ in range(max_steps):
        out = engine.generate(engine.tokenize(prompt + transcript, add_special=False, parse_special=True),
                              stop=["Observation:"], max_tokens=100)
        transcript += out.text
        for event in react_events(out.text):
            verdict = guard.check(event)
            steps.append((event, verdict))
            if verdict.action in ("deny", "stop"):
                return steps, ran, [verdict]  # blocked: nothing after it runs
            guard.step(event)
        inputs = [e for e, _ in steps if e.name == "action_input"]
        if out.finish_reason != "stop" or any(e.name == "final_answer" for e, _ in steps) or not inputs:
            break
        try:
            observation = tools.invoke("calculate", {"expression": inputs[-1].content.strip().strip('"')})
        except ToolArgumentError as e:
            observation = {"error": str(e)}
        ran.append(inputs[-1].content)
        text = json.dumps(observation)
        transcript += ("" if transcript.endswith("\n") else "\n") + f"Observation: {text}\n"
        guard.step(GuardEvent.custom("observation", text))
    return steps, ran, guard.check_final()


def test_react_loop_with_the_model_under_the_guard(qwen, data):
    guard = Guard.from_file("react")
    tools = local_tools(data, domains=["calculator"])
    steps, ran, problems = run_react(qwen, guard, REACT_SYSTEM, "What is 17 * 23?", tools)
    kinds = [e.name for e, _ in steps]
    assert kinds[:3] == ["thought", "action", "action_input"] and kinds[-1] == "final_answer", kinds
    assert all(v.allowed for _, v in steps) and problems == [], (steps, problems)
    assert len(ran) == 1  # the Action ran once, after the guard allowed it

    # Told to skip the Thought, the model leaves the ReAct format: the guard catches it.
    steps, ran, problems = run_react(qwen, guard, NO_THOUGHT_SYSTEM, "What is 17 * 23?", tools)
    assert problems and problems[0].rule in ("action_needs_thought", "ends_with_answer"), (steps, problems)
    assert ran == [] or problems[0].rule == "ends_with_answer"


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
