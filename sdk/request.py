"""Reading a request before planning: its clauses, and its dates written out.

Two generic aids for small models, neither specific to any tool or task:

* `clauses("note X and remind me Y")` -> ["note X", "remind me Y"]: a request with
  several clauses usually needs a call for each; tool retrieval searches per clause
  (one intent per query embeds better) and the plan grammar asks for at least as
  many calls as there are clauses.
* `annotate_dates(text, now)`: "next Tuesday at 3pm" -> the request followed by a line
  "(next Tuesday = 2026-03-17; 3pm = 15:00)". A 0.5B model copies a date well but
  computes one badly; on a line of its own the dates do not leak into copied text.
"""

from __future__ import annotations

import datetime as dt
import re

__all__ = ["clauses", "annotate_dates"]

_SPLIT = re.compile(r",?\s+(?:and then|and also|and|then|also)\s+|;\s*|\.\s+(?=[A-Z])", re.I)
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
MIN_CLAUSE_WORDS = 3  # shorter pieces are list items ("apples, bananas and rice"), not clauses


def clauses(text: str) -> list[str]:
    """The request's clauses, in order (at least one)."""
    # Quoted text is one unit: protect it from the split.
    quoted: list[str] = []

    def hide(m: re.Match) -> str:
        quoted.append(m.group(0))
        return f"\x00{len(quoted) - 1}\x00"

    hidden = _QUOTED.sub(hide, text.strip().rstrip("."))
    parts = [p.strip(" ,") for p in _SPLIT.split(hidden) if p and p.strip(" ,")]
    merged: list[str] = []
    for p in parts:
        if merged and (len(p.split()) < MIN_CLAUSE_WORDS or len(merged[-1].split()) < MIN_CLAUSE_WORDS):
            merged[-1] = f"{merged[-1]} and {p}"
        else:
            merged.append(p)
    restore = re.compile(r"\x00(\d+)\x00")
    return [restore.sub(lambda m: quoted[int(m.group(1))], p) for p in merged] or [text]


_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september",
           "october", "november", "december"]
_DAY_WORD = re.compile(r"\b(?:(next|this|on)\s+)?(today|tonight|tomorrow|" + "|".join(_WEEKDAYS) + r")\b"
                       r"(\s+next\s+week)?", re.I)
_MONTH_DAY = re.compile(r"\b(" + "|".join(_MONTHS) + r")\s+(\d{1,2})(?:st|nd|rd|th)?\b", re.I)
_TIME = re.compile(r"\b(\d{1,2})(?::(\d{2}))?\s*(am|pm)\b|\b(noon|midnight)\b", re.I)


def _weekday_date(now: dt.datetime, word: str, modifier: str, next_week: bool) -> dt.date:
    target = _WEEKDAYS.index(word)
    ahead = (target - now.weekday()) % 7 or 7  # "Tuesday" on a Tuesday means the next one
    day = now.date() + dt.timedelta(days=ahead)
    if next_week:  # "Friday next week": the one in the coming calendar week
        monday_next = now.date() + dt.timedelta(days=7 - now.weekday())
        day = monday_next + dt.timedelta(days=target)
    return day


def annotate_dates(text: str, now: dt.datetime) -> str:
    """`text` and, on a line after it, the ISO dates and 24-hour times its date and time words mean."""
    found: list[str] = []
    _mark_dates(text, now, found)
    return f"{text}\n({'; '.join(dict.fromkeys(found))})" if found else text


def _mark_dates(text: str, now: dt.datetime, found: list[str]) -> str:
    """`text` with ISO dates and 24-hour times added in brackets after date and time words;
    each "phrase = value" is also appended to `found`."""
    def day(m: re.Match) -> str:
        modifier, word, next_week = (m.group(1) or "").lower(), m.group(2).lower(), bool(m.group(3))
        if word in ("today", "tonight"):
            d = now.date()
        elif word == "tomorrow":
            d = now.date() + dt.timedelta(days=1)
        else:
            d = _weekday_date(now, word, modifier, next_week)
        found.append(f"{m.group(0)} = {d.isoformat()}")
        return f"{m.group(0)} ({d.isoformat()})"

    def month_day(m: re.Match) -> str:
        month, dom = _MONTHS.index(m.group(1).lower()) + 1, int(m.group(2))
        try:
            d = dt.date(now.year, month, dom)
        except ValueError:
            return m.group(0)
        if d < now.date():
            d = d.replace(year=d.year + 1)
        found.append(f"{m.group(0)} = {d.isoformat()}")
        return f"{m.group(0)} ({d.isoformat()})"

    def time(m: re.Match) -> str:
        if m.group(4):
            value = "12:00" if m.group(4).lower() == "noon" else "00:00"
            found.append(f"{m.group(0)} = {value}")
            return f"{m.group(0)} ({value})"
        hour, minute = int(m.group(1)), int(m.group(2) or 0)
        if not (1 <= hour <= 12 and minute < 60):
            return m.group(0)
        hour = hour % 12 + (12 if m.group(3).lower() == "pm" else 0)
        found.append(f"{m.group(0)} = {hour:02d}:{minute:02d}")
        return f"{m.group(0)} ({hour:02d}:{minute:02d})"

    text = _DAY_WORD.sub(day, text)
    text = _MONTH_DAY.sub(month_day, text)
    return _TIME.sub(time, text)
