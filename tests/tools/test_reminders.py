"""tools/reminders.py: reminders and timers in an atomically written JSON file."""

from __future__ import annotations

import json

import pytest

from edgeagent.errors import ToolArgumentError


def test_reminders_and_timers(tools, data_dir):
    r2 = tools.invoke("create_reminder", {"text": "Call Ana", "at": "2030-01-05T10:00"})
    tools.invoke("create_reminder", {"text": "Pay rent", "at": "2030-01-03T08:00"})
    t = tools.invoke("set_timer", {"minutes": 10, "label": "pasta"})
    assert t["ends_at"] == "2030-01-02T09:10:00"
    out = tools.invoke("list_reminders")
    assert [r["text"] for r in out["reminders"]] == ["Pay rent", "Call Ana"]
    assert [x["label"] for x in out["timers"]] == ["pasta"]
    state = json.loads((data_dir / "reminders.json").read_text())
    assert len(state["reminders"]) == 2 and len(state["timers"]) == 1

    tools.invoke("delete_reminder", {"reminder_id": r2["reminder_id"]})
    tools.invoke("delete_reminder", {"reminder_id": t["timer_id"]})
    out = tools.invoke("list_reminders")
    assert [r["text"] for r in out["reminders"]] == ["Pay rent"] and out["timers"] == []


def test_utc_time_stored_as_local(tools):
    r = tools.invoke("create_reminder", {"text": "x", "at": "2030-06-01T12:00:00+00:00"})
    assert len(r["at"]) == 16 and "+" not in r["at"]


@pytest.mark.parametrize("name, args, param, needle", [
    ("create_reminder", {"text": "x", "at": "tomorrow"}, "at", "ISO 8601"),
    ("create_reminder", {"text": "x", "at": "2029-12-31T10:00"}, "at", "past"),
    ("create_reminder", {"text": " ", "at": "2030-02-01T10:00"}, "text", "empty"),
    ("set_timer", {"minutes": 0}, "minutes", "more than 0"),
    ("set_timer", {"minutes": 10**6}, "minutes", "at most"),
    ("delete_reminder", {"reminder_id": "nope"}, "reminder_id", "no reminder"),
])
def test_errors(tools, name, args, param, needle):
    with pytest.raises(ToolArgumentError) as info:
        tools.invoke(name, args)
    assert info.value.parameter == param and needle in str(info.value)
