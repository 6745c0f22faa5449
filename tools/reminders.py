"""Reminders and timers kept in one JSON file (`<data_dir>/reminders.json`).

The whole file is rewritten atomically on every change, under a lock, so
parallel calls never lose each other's updates.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterable
from pathlib import Path

from edgeagent.errors import ToolArgumentError
from edgeagent.tool import Tool, tool

from ._asked import TO_DELETE
from ._atomic import atomic_write_json, file_lock
from ._dates import Clock, local_now, parse_datetime

__all__ = ["make_tools", "REMINDERS_NAME"]

REMINDERS_NAME = "reminders.json"
MAX_TIMER_MINUTES = 7 * 24 * 60


def make_tools(data_dir: Path, *, allowed_roots: Iterable[Path] | None = None,
               clock: Clock | None = None) -> list[Tool]:
    """The reminder and timer tools over `<data_dir>/reminders.json`."""
    path = Path(data_dir) / REMINDERS_NAME
    now = clock or local_now

    def load() -> dict:
        if not path.exists():
            return {"reminders": [], "timers": []}
        state = json.loads(path.read_text(encoding="utf-8"))
        state.setdefault("reminders", [])
        state.setdefault("timers", [])
        return state

    def local(value: dt.datetime) -> dt.datetime:
        # Stored and compared as naive local time, like the clock.
        return value.astimezone().replace(tzinfo=None) if value.tzinfo else value

    @tool(side_effect=True)
    def create_reminder(text: str, at: str) -> dict:
        """Remind the user of something at a given date and time ("remind me to ...").

        Args:
            text: What to remind about, e.g. "call Ana".
            at: When, as an ISO 8601 date-time, e.g. "2025-03-14T09:30".
        """
        if not text.strip():
            raise ToolArgumentError.about("text", "must not be empty")
        when = local(parse_datetime(at, "at"))
        if when < now():
            raise ToolArgumentError.about("at", f"{at!r} is in the past (now is {now().isoformat()})")
        item = {"reminder_id": uuid.uuid4().hex[:12], "text": text.strip(),
                "at": when.isoformat(timespec="minutes"),
                "created": now().isoformat(timespec="seconds")}
        with file_lock(path):
            state = load()
            state["reminders"].append(item)
            atomic_write_json(path, state)
        return item

    @tool
    def list_reminders(include_past: bool = False) -> dict:
        """List the existing reminders and timers, soonest first.

        Args:
            include_past: Also show reminders and timers whose time has passed.
        """
        with file_lock(path):
            state = load()
        stamp = now().isoformat(timespec="minutes")
        reminders = sorted((r for r in state["reminders"] if include_past or r["at"] >= stamp),
                           key=lambda r: r["at"])
        timers = sorted((t for t in state["timers"] if include_past or t["ends_at"] >= stamp),
                        key=lambda t: t["ends_at"])
        return {"now": stamp, "reminders": reminders, "timers": timers}

    @tool(side_effect=True, only_if_said=TO_DELETE)
    def delete_reminder(reminder_id: str) -> dict:
        """Delete a reminder or a timer.

        Args:
            reminder_id: Id of the reminder or timer (from list_reminders).
        """
        with file_lock(path):
            state = load()
            for key, id_key in (("reminders", "reminder_id"), ("timers", "timer_id")):
                kept = [r for r in state[key] if r.get(id_key) != reminder_id]
                if len(kept) != len(state[key]):
                    state[key] = kept
                    atomic_write_json(path, state)
                    return {"deleted": reminder_id}
        raise ToolArgumentError.about("reminder_id", f"there is no reminder or timer with id {reminder_id!r}")

    @tool(side_effect=True)
    def set_timer(minutes: float, label: str = "") -> dict:
        """Start a countdown timer that rings after some minutes from now.

        Args:
            minutes: How long the timer runs, in minutes (e.g. 0.5 for 30 seconds).
            label: What the timer is for, e.g. "pasta".
        """
        if not 0 < minutes <= MAX_TIMER_MINUTES:
            raise ToolArgumentError.about("minutes", f"must be more than 0 and at most {MAX_TIMER_MINUTES}")
        start = now()
        item = {"timer_id": uuid.uuid4().hex[:12], "label": label.strip(),
                "minutes": minutes, "started": start.isoformat(timespec="seconds"),
                "ends_at": (start + dt.timedelta(minutes=minutes)).isoformat(timespec="seconds")}
        with file_lock(path):
            state = load()
            state["timers"].append(item)
            atomic_write_json(path, state)
        return item

    return [create_reminder, list_reminders, delete_reminder, set_timer]
