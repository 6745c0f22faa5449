"""edgeagent.tools.local_tools: the whole registry, as the planner sees it."""

from __future__ import annotations

import jsonschema
import pytest

from edgeagent.tools import DOMAINS, local_tools

SIDE_EFFECTS = {"write_file", "move_file", "create_note", "update_note", "delete_note",
                "create_event", "delete_event", "add_contact", "draft_message", "send_message", "send_draft",
                "create_reminder", "delete_reminder", "set_timer"}


def test_every_tool_is_described_for_the_model(tools):
    assert len(tools) == 26
    for t in tools:
        s = t.schema["function"]
        assert s["description"], t.name
        jsonschema.Draft202012Validator.check_schema(s["parameters"])
        assert s["parameters"]["additionalProperties"] is False
        for name, prop in s["parameters"]["properties"].items():
            assert prop.get("description"), f"{t.name}.{name} has no description"


def test_side_effect_flags(tools):
    assert {t.name for t in tools if t.side_effect} == SIDE_EFFECTS


def test_domains_and_independent_data_dirs(tmp_path):
    a = local_tools(tmp_path / "a", domains=["notes"])
    b = local_tools(tmp_path / "b", domains=["notes"])
    assert a.names() == ["create_note", "search_notes", "read_note", "update_note",
                         "delete_note"]
    a.invoke("create_note", {"title": "only in a"})
    assert b.invoke("search_notes", {})["notes"] == []
    assert len(a.invoke("search_notes", {})["notes"]) == 1
    with pytest.raises(ValueError, match="unknown tool domains"):
        local_tools(tmp_path, domains=["weather"])
    assert set(DOMAINS) == {"files", "notes", "calendar", "contacts", "messages", "reminders",
                            "calculator", "units", "system"}
