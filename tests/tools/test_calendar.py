"""tools/calendar.py: iCalendar events with recurrences."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import icalendar
import pytest

from edgeagent.errors import ToolArgumentError


def test_create_and_list_single_event(tools, data_dir):
    ev = tools.invoke("create_event", {"title": "Dentist", "start": "2030-01-03T15:00",
                                       "location": "Main St"})
    assert ev["end"] == "2030-01-03T16:00" and ev["all_day"] is False
    cal = icalendar.Calendar.from_ical((data_dir / "calendar.ics").read_bytes())
    [vevent] = cal.walk("VEVENT")
    assert str(vevent["SUMMARY"]) == "Dentist"
    assert vevent["DTSTART"].dt == dt.datetime(2030, 1, 3, 15, 0)
    events = tools.invoke("list_events", {})["events"]  # default: from today, 30 days
    assert [(e["title"], e["start"], e["location"]) for e in events] == [
        ("Dentist", "2030-01-03T15:00", "Main St")]


def test_recurrence_expanded_in_range(tools):
    tools.invoke("create_event", {"title": "Standup", "start": "2030-01-07T09:30",
                                  "duration_minutes": 15, "recurrence": "weekly"})
    tools.invoke("create_event", {"title": "Gym", "start": "2030-01-01T18:00",
                                  "end": "2030-01-01T19:00", "recurrence": "daily",
                                  "recurrence_count": 3})
    tools.invoke("create_event", {"title": "Rent", "start": "2030-01-05T08:00",
                                  "recurrence": "monthly", "recurrence_until": "2030-03-31"})
    out = tools.invoke("list_events", {"start": "2030-01-01", "end": "2030-01-31"})
    starts = [(e["title"], e["start"]) for e in out["events"]]
    assert [s for t, s in starts if t == "Standup"] == [
        "2030-01-07T09:30", "2030-01-14T09:30", "2030-01-21T09:30", "2030-01-28T09:30"]
    assert [s for t, s in starts if t == "Gym"] == [
        "2030-01-01T18:00", "2030-01-02T18:00", "2030-01-03T18:00"]
    assert starts == sorted(starts, key=lambda x: x[1])
    assert all(e["recurrence"] == "weekly" for e in out["events"] if e["title"] == "Standup")
    rent = tools.invoke("list_events", {"start": "2030-01-01", "end": "2030-12-31",
                                        "query": "rent"})["events"]
    assert [e["start"] for e in rent] == ["2030-01-05T08:00", "2030-02-05T08:00",
                                          "2030-03-05T08:00"]


def test_all_day_and_utc_events(tools):
    tools.invoke("create_event", {"title": "Holiday", "start": "2030-01-10", "end": "2030-01-12"})
    ev = tools.invoke("create_event", {"title": "Call", "start": "2030-01-11T10:00Z"})
    assert ev["start"] == "2030-01-11T10:00+00:00"
    out = tools.invoke("list_events", {"start": "2030-01-11", "end": "2030-01-11"})["events"]
    assert [(e["title"], e["all_day"]) for e in out] == [("Holiday", True), ("Call", False)]
    assert out[0]["start"] == "2030-01-10" and out[0]["end"] == "2030-01-12"


def test_delete_event_removes_series(tools):
    ev = tools.invoke("create_event", {"title": "Standup", "start": "2030-01-07T09:30",
                                       "recurrence": "daily"})
    tools.invoke("create_event", {"title": "Other", "start": "2030-01-08T12:00"})
    assert tools.invoke("delete_event", {"event_id": ev["event_id"]})["title"] == "Standup"
    assert [e["title"] for e in tools.invoke("list_events", {})["events"]] == ["Other"]
    with pytest.raises(ToolArgumentError, match="no event"):
        tools.invoke("delete_event", {"event_id": ev["event_id"]})


@pytest.mark.parametrize("args, param, needle", [
    ({"title": "x", "start": "next tuesday"}, "start", "ISO 8601"),
    ({"title": "x", "start": "2030-02-30T10:00"}, "start", "ISO 8601"),
    ({"title": "x", "start": "2030-01-03T10:00", "end": "2030-01-03T09:00"}, "end", "not after"),
    ({"title": "x", "start": "2030-01-03T10:00", "end": "2030-01-04"}, "end", "date-time"),
    ({"title": "x", "start": "2030-01-03T10:00", "duration_minutes": 0}, "duration_minutes",
     "positive"),
    ({"title": "x", "start": "2030-01-03T10:00", "recurrence": "hourly"}, "recurrence", "hourly"),
    ({"title": "x", "start": "2030-01-03T10:00", "recurrence_count": 2}, "recurrence_count", "needs a recurrence"),
    ({"title": "x", "start": "2030-01-03T10:00", "recurrence": "weekly", "recurrence_count": 2,
      "recurrence_until": "2030-03-01"}, "recurrence_until", "not both"),
    ({"title": "", "start": "2030-01-03T10:00"}, "title", "empty"),
])
def test_create_errors(tools, args, param, needle):
    with pytest.raises(ToolArgumentError) as info:
        tools.invoke("create_event", args)
    assert info.value.parameter == param and needle in str(info.value)


def test_list_errors(tools):
    with pytest.raises(ToolArgumentError, match="'end'.*after start"):
        tools.invoke("list_events", {"start": "2030-02-01", "end": "2030-01-01"})
    with pytest.raises(ToolArgumentError, match="at most"):
        tools.invoke("list_events", {"start": "2030-01-01", "end": "2040-01-01"})


def test_parallel_creates_lose_nothing(tools):
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda i: tools.invoke("create_event", {
            "title": f"e{i}", "start": f"2030-01-{i + 3:02d}T10:00"}), range(10)))
    assert len(tools.invoke("list_events", {})["events"]) == 10
