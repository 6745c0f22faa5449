"""Notes kept in SQLite (`<data_dir>/notes.sqlite3`).

SQLite transactions give atomic writes; one short-lived connection per call
keeps the tools safe to run from the executor's threads.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path

from edgeagent.errors import ToolArgumentError
from edgeagent.tool import Tool, tool

from ._asked import TO_DELETE
from ._dates import Clock, local_now

__all__ = ["make_tools", "DB_NAME"]

DB_NAME = "notes.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS notes (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    title    TEXT NOT NULL,
    body     TEXT NOT NULL DEFAULT '',
    tags     TEXT NOT NULL DEFAULT '[]',   -- JSON list of lower-case tags
    created  TEXT NOT NULL,
    updated  TEXT NOT NULL
)
"""


def _clean_tags(tags: list[str] | None) -> list[str]:
    out: list[str] = []
    for t in tags or []:
        t = t.strip().lstrip("#").lower()
        if t and t not in out:
            out.append(t)
    return out


def _row(r: sqlite3.Row, full: bool = True) -> dict:
    note = {"id": r["id"], "title": r["title"], "tags": json.loads(r["tags"]),
            "created": r["created"], "updated": r["updated"]}
    if full:
        note["body"] = r["body"]
    else:
        note["snippet"] = r["body"][:120]
    return note


def make_tools(data_dir: Path, *, allowed_roots: Iterable[Path] | None = None,
               clock: Clock | None = None) -> list[Tool]:
    """The note tools over `<data_dir>/notes.sqlite3` (created on first use)."""
    db_path = Path(data_dir) / DB_NAME
    now = clock or local_now

    @contextlib.contextmanager
    def connect() -> Iterator[sqlite3.Connection]:
        db_path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(db_path, timeout=10)
        conn.row_factory = sqlite3.Row
        try:
            with conn:  # one transaction: committed on success, rolled back on error
                conn.execute(_SCHEMA)  # IF NOT EXISTS: cheap after the first time
                yield conn
        finally:
            conn.close()

    def fetch(conn: sqlite3.Connection, note_id: int) -> sqlite3.Row:
        r = conn.execute("SELECT * FROM notes WHERE id = ?", (note_id,)).fetchone()
        if r is None:
            raise ToolArgumentError.about("note_id", f"there is no note with id {note_id}")
        return r

    @tool(side_effect=True)
    def create_note(title: str, body: str = "", tags: list[str] | None = None) -> dict:
        """Create a new note in the notes app, with a title and a text ("make a note", "note that ...").

        Args:
            title: Short title of the note.
            body: The text of the note.
            tags: Optional labels such as ["work", "ideas"].
        """
        if not title.strip():
            raise ToolArgumentError.about("title", "must not be empty")
        stamp = now().isoformat(timespec="seconds")
        with connect() as conn:
            cur = conn.execute(
                "INSERT INTO notes (title, body, tags, created, updated) VALUES (?, ?, ?, ?, ?)",
                (title.strip(), body, json.dumps(_clean_tags(tags)), stamp, stamp))
            return _row(fetch(conn, cur.lastrowid))

    @tool
    def search_notes(query: str = "", tag: str | None = None, limit: int = 20) -> dict:
        """Find the user's notes about something: notes whose title, text or tags contain the query (case-insensitive).

        Args:
            query: Text to look for; empty lists the most recent notes.
            tag: Only notes with this tag.
            limit: Maximum number of notes to return.
        """
        sql = "SELECT * FROM notes WHERE 1"
        params: list = []
        if query.strip():
            # LIKE is case-insensitive for ASCII; escape its wildcards in the query.
            like = "%" + query.strip().replace("\\", "\\\\").replace("%", "\\%") \
                .replace("_", "\\_") + "%"
            sql += (" AND (title LIKE ? ESCAPE '\\' OR body LIKE ? ESCAPE '\\'"
                    " OR tags LIKE ? ESCAPE '\\')")
            params += [like, like, like]
        tag_clean = _clean_tags([tag] if tag else [])
        if tag_clean:
            sql += " AND EXISTS (SELECT 1 FROM json_each(notes.tags) WHERE value = ?)"
            params.append(tag_clean[0])
        sql += " ORDER BY updated DESC, id DESC LIMIT ?"
        params.append(max(1, min(limit, 100)))
        with connect() as conn:
            rows = conn.execute(sql, params).fetchall()
        return {"notes": [_row(r, full=False) for r in rows]}

    @tool
    def read_note(note_id: int) -> dict:
        """Read one existing note in full, by its id.

        Args:
            note_id: The note's id, as returned by search_notes or create_note.
        """
        with connect() as conn:
            return _row(fetch(conn, note_id))

    @tool(side_effect=True)
    def update_note(note_id: int, title: str | None = None, body: str | None = None,
                    tags: list[str] | None = None, append: bool = False) -> dict:
        """Change an existing note's title, text or tags, by its id; fields left out stay as they are.

        Args:
            note_id: The note's id, as returned by search_notes or create_note.
            title: New title.
            body: New text (or text to add at the end when append is true).
            tags: New list of tags, replacing the old ones.
            append: Add body to the end of the existing text instead of replacing it.
        """
        with connect() as conn:
            old = fetch(conn, note_id)
            new_title = old["title"] if title is None else title.strip()
            if not new_title:
                raise ToolArgumentError.about("title", "must not be empty")
            new_body = old["body"] if body is None else (
                (old["body"] + ("\n" if old["body"] else "") + body) if append else body)
            new_tags = old["tags"] if tags is None else json.dumps(_clean_tags(tags))
            conn.execute("UPDATE notes SET title = ?, body = ?, tags = ?, updated = ? WHERE id = ?",
                         (new_title, new_body, new_tags, now().isoformat(timespec="seconds"),
                          note_id))
            return _row(fetch(conn, note_id))

    @tool(side_effect=True, only_if_said=TO_DELETE)
    def delete_note(note_id: int) -> dict:
        """Delete a note for good.

        Args:
            note_id: The note's id, as returned by search_notes or create_note.
        """
        with connect() as conn:
            old = fetch(conn, note_id)
            conn.execute("DELETE FROM notes WHERE id = ?", (note_id,))
        return {"deleted": note_id, "title": old["title"]}

    return [create_note, search_notes, read_note, update_note, delete_note]

