"""Calendar tools over one iCalendar file (`<data_dir>/calendar.ics`).

Events are VEVENTs written with `icalendar`; recurring events carry an RRULE
and `recurring-ical-events` expands them when listing. Times without a UTC
offset are stored as floating local times (what a person means by "3 pm");
times with an offset are stored in UTC. A bare date makes an all-day event.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

import icalendar
import recurring_ical_events

from edgeagent.errors import ToolArgumentError
from edgeagent.tool import Tool, tool

from ._asked import TO_DELETE
from ._atomic import atomic_write_bytes, file_lock
from ._dates import Clock, local_now, parse_date_or_datetime

__all__ = ["make_tools", "CALENDAR_NAME"]

CALENDAR_NAME = "calendar.ics"
DEFAULT_DURATION_MINUTES = 60
DEFAULT_WINDOW_DAYS = 30
MAX_WINDOW_DAYS = 800        # bounds how many recurrences one listing expands
MAX_OCCURRENCES = 200

Recurrence = Literal["none", "daily", "weekly", "monthly", "yearly"]


def _store(value: dt.date | dt.datetime) -> dt.date | dt.datetime:
    """How a time is written: aware -> UTC, naive -> floating, date -> all-day."""
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.timezone.utc)
    return value


def _until(value: str, begin: dt.date | dt.datetime) -> dt.date | dt.datetime:
    """RRULE's UNTIL, of the value type RFC 5545 requires for this DTSTART."""
    until = parse_date_or_datetime(value, "recurrence_until")
    if not isinstance(begin, dt.datetime):  # all-day: a date
        return until.date() if isinstance(until, dt.datetime) else until
    if not isinstance(until, dt.datetime):  # a date includes that whole day
        until = dt.datetime.combine(until, dt.time(23, 59, 59))
    if begin.tzinfo is None:  # floating start: floating UNTIL
        return until.astimezone().replace(tzinfo=None) if until.tzinfo else until
    return until.astimezone(dt.timezone.utc)  # UTC start: UNTIL in UTC


def _local_naive(value: dt.date | dt.datetime) -> dt.datetime:
    """A comparable key: everything as naive local time."""
    if not isinstance(value, dt.datetime):
        return dt.datetime.combine(value, dt.time())
    if value.tzinfo is not None:
        return value.astimezone().replace(tzinfo=None)
    return value


def _iso(value: dt.date | dt.datetime) -> str:
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="minutes")
    return value.isoformat()


def _new_calendar() -> icalendar.Calendar:
    cal = icalendar.Calendar()
    cal.add("prodid", "-//edgeagent//local tools//EN")
    cal.add("version", "2.0")
    return cal


def make_tools(data_dir: Path, *, allowed_roots: Iterable[Path] | None = None,
               clock: Clock | None = None) -> list[Tool]:
    """The calendar tools over `<data_dir>/calendar.ics` (created on first write)."""
    path = Path(data_dir) / CALENDAR_NAME
    now = clock or local_now

    def load() -> icalendar.Calendar:
        if not path.exists():
            return _new_calendar()
        return icalendar.Calendar.from_ical(path.read_bytes())

    def save(cal: icalendar.Calendar) -> None:
        atomic_write_bytes(path, cal.to_ical())

    def describe(ev: icalendar.Event, recurrence: str | None = None) -> dict:
        start = ev["DTSTART"].dt
        end = ev["DTEND"].dt if "DTEND" in ev else start
        if not isinstance(start, dt.datetime) and end > start:
            end -= dt.timedelta(days=1)  # DTEND is exclusive; people read end dates inclusively
        out = {"event_id": str(ev["UID"]), "title": str(ev.get("SUMMARY", "")),
               "start": _iso(start), "end": _iso(end),
               "all_day": not isinstance(start, dt.datetime)}
        for key, name in (("LOCATION", "location"), ("DESCRIPTION", "description")):
            if ev.get(key):
                out[name] = str(ev[key])
        if recurrence:
            out["recurrence"] = recurrence
        return out

    @tool(side_effect=True)
    def create_event(title: str, start: str, end: str | None = None,
                     duration_minutes: int | None = None, location: str = "",
                     description: str = "", recurrence: Recurrence = "none",
                     recurrence_count: int | None = None,
                     recurrence_until: str | None = None) -> dict:
        """Add an event, appointment or meeting to the calendar (schedule or book it).

        Args:
            title: What the event is, e.g. "Meeting with Ana".
            start: Start as ISO 8601, e.g. "2025-03-14T15:00"; a date alone
                ("2025-03-14") makes an all-day event.
            end: End as ISO 8601; leave out to use duration_minutes (default 60 minutes).
            duration_minutes: Length in minutes, used when end is not given.
            location: Where it takes place.
            description: Extra details.
            recurrence: Repeat the event "daily", "weekly", "monthly" or "yearly";
                "none" for a single event.
            recurrence_count: Stop repeating after this many occurrences.
            recurrence_until: Stop repeating after this ISO 8601 date.
        """
        if not title.strip():
            raise ToolArgumentError.about("title", "must not be empty")
        begin = parse_date_or_datetime(start, "start")
        all_day = not isinstance(begin, dt.datetime)
        if end is not None:
            finish = parse_date_or_datetime(end, "end")
            if all_day != (not isinstance(finish, dt.datetime)):
                raise ToolArgumentError.about("end", "must be a date if start is a date, "
                                                     "and a date-time if start is a date-time")
            if all_day:
                finish = finish + dt.timedelta(days=1)  # a person's end date is inclusive
        elif all_day:
            days = max(1, -(-(duration_minutes or 0) // 1440))
            finish = begin + dt.timedelta(days=days)
        else:
            minutes = DEFAULT_DURATION_MINUTES if duration_minutes is None else duration_minutes
            if minutes <= 0:
                raise ToolArgumentError.about("duration_minutes", "must be positive")
            finish = begin + dt.timedelta(minutes=minutes)
        if not all_day and (begin.tzinfo is None) != (finish.tzinfo is None):
            raise ToolArgumentError.about("end", "start and end must both have a UTC offset or both not")
        if finish <= begin:
            raise ToolArgumentError.about("end", f"{end!r} is not after the start {start!r}")

        ev = icalendar.Event()
        uid = uuid.uuid4().hex
        ev.add("uid", uid)
        ev.add("summary", title.strip())
        ev.add("dtstart", _store(begin))
        ev.add("dtend", _store(finish))
        ev.add("dtstamp", dt.datetime.now(dt.timezone.utc))
        if location:
            ev.add("location", location)
        if description:
            ev.add("description", description)
        if recurrence != "none":
            rule: dict = {"freq": recurrence}
            if recurrence_count is not None:
                if recurrence_count < 1:
                    raise ToolArgumentError.about("recurrence_count", "must be at least 1")
                rule["count"] = recurrence_count
            if recurrence_until is not None:
                if recurrence_count is not None:  # RFC 5545: COUNT and UNTIL never together
                    raise ToolArgumentError.about("recurrence_until", "give recurrence_count or recurrence_until, "
                                                                      "not both")
                rule["until"] = _until(recurrence_until, begin)
            ev.add("rrule", rule)
        elif recurrence_count is not None or recurrence_until is not None:
            given = "recurrence_count" if recurrence_count is not None else "recurrence_until"
            raise ToolArgumentError.about(given, "needs a recurrence (daily, weekly, monthly or yearly)")

        with file_lock(path):
            cal = load()
            cal.add_component(ev)
            save(cal)
        return describe(ev, None if recurrence == "none" else recurrence)

    @tool
    def list_events(start: str | None = None, end: str | None = None,
                    query: str | None = None) -> dict:
        """List the events and appointments in a time range (what is planned, when something is), each occurrence of repeating events.

        Args:
            start: Beginning of the range as ISO 8601; default today.
            end: End of the range as ISO 8601 (a date includes that whole day);
                default 30 days after start.
            query: Only events whose title, location or description contain this text.
        """
        begin = _local_naive(parse_date_or_datetime(start, "start")) if start else \
            now().replace(hour=0, minute=0, second=0, microsecond=0)
        if end:
            parsed = parse_date_or_datetime(end, "end")
            finish = _local_naive(parsed)
            if not isinstance(parsed, dt.datetime):
                finish += dt.timedelta(days=1)
        else:
            finish = begin + dt.timedelta(days=DEFAULT_WINDOW_DAYS)
        if finish <= begin:
            raise ToolArgumentError.about("end", "must be after start")
        if finish - begin > dt.timedelta(days=MAX_WINDOW_DAYS):
            raise ToolArgumentError.about("end", f"the range may span at most {MAX_WINDOW_DAYS} days")
        with file_lock(path):
            cal = load()
        rules = {str(ev["UID"]): str(ev["RRULE"].get("FREQ", [""])[0]).lower()
                 for ev in cal.walk("VEVENT") if "RRULE" in ev}
        needle = (query or "").strip().lower()
        found = []
        for occ in recurring_ical_events.of(cal).between(begin, finish):
            if needle and not any(needle in str(occ.get(k, "")).lower()
                                  for k in ("SUMMARY", "LOCATION", "DESCRIPTION")):
                continue
            found.append(occ)
        found.sort(key=lambda occ: _local_naive(occ["DTSTART"].dt))
        events = [describe(o, rules.get(str(o["UID"]))) for o in found[:MAX_OCCURRENCES]]
        return {"start": _iso(begin), "end": _iso(finish), "events": events,
                "truncated": len(found) > MAX_OCCURRENCES}

    @tool(side_effect=True, only_if_said=TO_DELETE)
    def delete_event(event_id: str) -> dict:
        """Delete (cancel) a calendar event or appointment (all occurrences if it repeats).

        Args:
            event_id: The event's id, as returned by list_events or create_event.
        """
        with file_lock(path):
            cal = load()
            def match(c: icalendar.cal.Component) -> bool:
                return c.name == "VEVENT" and str(c.get("UID")) == event_id
            removed = [c for c in cal.subcomponents if match(c)]
            if not removed:
                raise ToolArgumentError.about("event_id", f"there is no event with id {event_id!r}")
            cal.subcomponents[:] = [c for c in cal.subcomponents if not match(c)]
            save(cal)
        return {"deleted": event_id, "title": str(removed[0].get("SUMMARY", ""))}

    return [create_event, list_events, delete_event]
