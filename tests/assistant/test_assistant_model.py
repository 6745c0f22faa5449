"""The Assistant end to end on the default model and real local tools, both strategies."""

from __future__ import annotations

import json

import pytest

from edgeagent import Assistant
from edgeagent.errors import InvalidParameterError


@pytest.mark.parametrize("strategy", ["plan", "react"])
def test_a_turn_acts_on_the_data_and_keeps_the_conversation(strategy, planner_engine, registry, clock, data_dir):
    events = []
    asked = []
    assistant = Assistant(engine=planner_engine, tools=registry, strategy=strategy, clock=clock,
                          confirm=lambda tool, args: asked.append(tool) or True,
                          on_event=lambda kind, data: events.append(kind))
    pieces = []
    turn = assistant.ask("Set a timer for 12 minutes for the pizza", on_text=pieces.append)
    assert turn.calls and all(c["name"] in turn.tools_offered for c in turn.calls)
    timers = json.loads((data_dir / "reminders.json").read_text())["timers"]
    assert [t["minutes"] for t in timers] == [12]
    assert "set_timer" in asked  # side effects were put to the callback
    assert "plan" in events and "result" in events
    assert turn.text and "".join(pieces).strip() == turn.text  # streamed, and the same text
    assert turn.latency_s > 0 and turn.generations >= 2
    assert [m["role"] for m in assistant.history] == ["user", "assistant"]


def test_bad_arguments(planner_engine, registry):
    with pytest.raises(InvalidParameterError, match="strategy"):
        Assistant(engine=planner_engine, tools=registry, strategy="guess")
    with pytest.raises(InvalidParameterError, match="data_dir"):
        Assistant(engine=planner_engine)
    a = Assistant(engine=planner_engine, tools=registry)
    with pytest.raises(InvalidParameterError, match="query"):
        a.ask("   ")


def test_react_sees_a_call_written_differently_as_a_repeat(registry):
    from edgeagent.assistant import _call_key

    timer = registry.get("set_timer")
    assert _call_key(timer, {"minutes": 12}) == _call_key(timer, {"minutes": 12.0, "label": ""})  # label's default
    assert _call_key(timer, {"minutes": 12}) != _call_key(timer, {"minutes": 12, "label": "pizza"})
    assert _call_key(timer, {"minutes": 12}) != _call_key(timer, {"minutes": 13})
    assert _call_key(timer, {"minutes": "twelve"}) != _call_key(timer, {"minutes": 12})  # invalid: compared as written
