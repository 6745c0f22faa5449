"""tools/notes.py: notes in SQLite."""

from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor

import pytest

from edgeagent.errors import ToolArgumentError


def test_create_read_search_update_delete(tools, data_dir):
    n = tools.invoke("create_note", {"title": "Meeting with Ana", "body": "Budget 100% agreed",
                                     "tags": ["Work", "#work", " meetings "]})
    assert n["id"] == 1 and n["tags"] == ["work", "meetings"]
    assert n["created"] == "2030-01-02T09:00:00"
    tools.invoke("create_note", {"title": "Groceries", "body": "milk, eggs"})

    assert tools.invoke("read_note", {"note_id": 1})["body"] == "Budget 100% agreed"
    hits = tools.invoke("search_notes", {"query": "ANA"})["notes"]
    assert [h["title"] for h in hits] == ["Meeting with Ana"]
    assert [h["id"] for h in tools.invoke("search_notes", {"tag": "work"})["notes"]] == [1]
    assert len(tools.invoke("search_notes", {})["notes"]) == 2
    # LIKE wildcards in the query are taken literally
    assert [h["id"] for h in tools.invoke("search_notes", {"query": "100%"})["notes"]] == [1]
    assert tools.invoke("search_notes", {"query": "_"})["notes"] == []

    tools.invoke("update_note", {"note_id": 2, "body": "bread", "append": True})
    assert tools.invoke("read_note", {"note_id": 2})["body"] == "milk, eggs\nbread"
    tools.invoke("update_note", {"note_id": 2, "title": "Shopping", "tags": ["home"]})
    note = tools.invoke("read_note", {"note_id": 2})
    assert note["title"] == "Shopping" and note["tags"] == ["home"]

    assert tools.invoke("delete_note", {"note_id": 1}) == {"deleted": 1,
                                                           "title": "Meeting with Ana"}
    with sqlite3.connect(data_dir / "notes.sqlite3") as conn:
        assert conn.execute("SELECT id FROM notes").fetchall() == [(2,)]


@pytest.mark.parametrize("name, args, param", [
    ("read_note", {"note_id": 99}, "note_id"),
    ("update_note", {"note_id": 99, "title": "x"}, "note_id"),
    ("delete_note", {"note_id": 99}, "note_id"),
    ("create_note", {"title": "  "}, "title"),
    ("read_note", {"note_id": "one"}, "note_id"),
])
def test_errors(tools, name, args, param):
    with pytest.raises(ToolArgumentError) as info:
        tools.invoke(name, args)
    assert info.value.parameter == param


def test_failed_update_changes_nothing(tools):
    tools.invoke("create_note", {"title": "Keep", "body": "safe"})
    with pytest.raises(ToolArgumentError):
        tools.invoke("update_note", {"note_id": 1, "title": " ", "body": "lost?"})
    assert tools.invoke("read_note", {"note_id": 1})["body"] == "safe"


def test_parallel_creates(tools):
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda i: tools.invoke("create_note", {"title": f"n{i}"}), range(12)))
    assert len(tools.invoke("search_notes", {"limit": 50})["notes"]) == 12


def test_side_effects(tools):
    flags = {t.name: t.side_effect for t in tools if "note" in t.name}
    assert flags == {"create_note": True, "search_notes": False, "read_note": False,
                     "update_note": True, "delete_note": True}
