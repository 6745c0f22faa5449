"""Dates and times: as a user tells them, and as a tool's description lays them out.

A user writes "6:30 am", "7pm", "March 3rd, 2024", "the 5th of July", "12/25/2024"; a
tool's description asks for 'HH:MM', 'YYYY-MM-DD HH:MM:SS', 'dd-mm-yyyy' or
"(month-day-year)". Both are read into fields (year, month, day, hour, minute, second).
A value the model wrote in any common layout (06:30 AM, 19:00:00, 2024-03-03, 3-03-2024,
12/25/2024) is written again in the layout its parameter's description names
(`conform`), and counts as stated by a query that tells the same fields (`told_in`):
the 0.5B model converts "6:30 am" to "06:30" correctly, and words alone cannot see that
the user gave it.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Optional

from .request import MONTHS

__all__ = ["Moment", "Told", "described_layout", "readings", "conform", "told", "is_told", "told_in"]

Moment = dict[str, int]  # some of year, month, day, hour, minute, second
Told = tuple[list[Moment], list[Moment]]  # the dates and the times a text tells (see `told`)
_DATE_FIELDS = ("year", "month", "day")
_TIME_FIELDS = ("hour", "minute", "second")

_MONTH = {m: i + 1 for i, m in enumerate(MONTHS)} | {m[:3]: i + 1 for i, m in enumerate(MONTHS)} | {"sept": 9}
_MONTH_NAME = rf"({'|'.join(sorted(_MONTH, key=len, reverse=True))})\.?"  # "September", "Sept.", "Sep"

# A described layout: codes joined by separators ("YYYY-MM-DD HH:MM:SS", "dd/mm/yyyy",
# "HH:MM", "hh:mm AM/PM"), or a date's three fields in words ("(month-day-year)").
_CODE = r"(?:yyyy|mm|dd|hh|ss)"
_WORD = r"(?:year|month|day)"
_LAYOUT = re.compile(rf"(?<![A-Za-z]){_CODE}(?:[-/.:T ]{_CODE})+(?:\s?(?:AM/PM|A\.M\./P\.M\.))?(?![A-Za-z])"
                     rf"|\b{_WORD}([-/.]){_WORD}\1{_WORD}\b", re.I)
_LAYOUT_PART = re.compile(r"(yyyy|mm|dd|hh|ss|year|month|day)|(AM/PM|A\.M\./P\.M\.)|(.)", re.I)


def described_layout(description: str) -> Optional[list[str]]:
    """The layout a parameter's description names, as a list of field names and literal
    separators ("HH:MM" -> ["hour", ":", "minute"]; "am/pm" for a 12-hour clock's
    marker), or None. "mm" after an hour is minutes, elsewhere the month."""
    for m in _LAYOUT.finditer(description):
        parts: list[str] = []
        for field, marker, sep in _LAYOUT_PART.findall(m.group(0)):
            f = field.lower()
            if f in ("yyyy", "year"):
                parts.append("year")
            elif f in ("dd", "day"):
                parts.append("day")
            elif f == "hh":
                parts.append("hour")
            elif f == "ss":
                parts.append("second")
            elif f in ("mm", "month"):
                parts.append("minute" if f == "mm" and "hour" in parts else "month")
            elif marker:
                parts.append("am/pm")
            else:
                parts.append(sep)
        fields = [p for p in parts if p in _DATE_FIELDS + _TIME_FIELDS]
        # A real layout: two fields or more, each once, and a time's minutes with its hour.
        if len(fields) >= 2 and len(set(fields)) == len(fields) and ("minute" not in fields or "hour" in fields):
            return parts
    return None


def _moment(**fields: Optional[str]) -> Optional[Moment]:
    """The fields as numbers, or None where they make no real date or time."""
    out = {k: int(v) for k, v in fields.items() if v is not None}
    try:
        if {"month", "day"} <= out.keys():
            dt.date(out.get("year", 2000), out["month"], out["day"])
        elif "month" in out and not 1 <= out["month"] <= 12:
            return None
        if "hour" in out:
            dt.time(out["hour"], out.get("minute", 0), out.get("second", 0))
    except ValueError:
        return None
    return out


def _hour24(hour: str, marker: str) -> str:
    h = int(hour) % 12
    return str(h + 12 if marker.lower().startswith("p") else h)


_TIME = r"(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?(?:\s?(?P<marker>[AaPp])\.?[Mm]\.?)?"
_VALUE_TIME = re.compile(_TIME)
_VALUE_ISO = re.compile(rf"(?P<year>\d{{4}})(?P<sep>[-/.])(?P<month>\d{{1,2}})"
                        rf"(?:(?P=sep)(?P<day>\d{{1,2}})(?:[T ]{_TIME}(?:Z|[+-]\d\d:?\d\d)?)?)?")
_VALUE_NUMERIC = re.compile(r"(\d{1,2})([-/.])(\d{1,2})\2(\d{4})")


def readings(value: str, layout: Optional[list[str]] = None) -> list[Moment]:
    """The moments a value written as a date or time may mean, most likely first: a
    day-month-year value in the order of `layout` where it reads so, else month first,
    else day first; [] for anything else."""
    value = value.strip()
    m = _VALUE_TIME.fullmatch(value) or _VALUE_ISO.fullmatch(value)
    if m:
        g = m.groupdict()
        hour = _hour24(g["hour"], g["marker"]) if g["hour"] and g["marker"] else g["hour"]
        t = _moment(year=g.get("year"), month=g.get("month"), day=g.get("day"), hour=hour, minute=g["minute"],
                    second=g["second"])
        return [t] if t else []
    if m := _VALUE_NUMERIC.fullmatch(value):
        day_first = layout is not None and [p for p in layout if p in ("month", "day")] == ["day", "month"]
        orders = [(m[3], m[1]), (m[1], m[3])] if day_first else [(m[1], m[3]), (m[3], m[1])]
        out = [t for month, day in orders if (t := _moment(year=m[4], month=month, day=day))]
        return [t for i, t in enumerate(out) if t not in out[:i]]
    return []


def _written(moment: Moment, layout: list[str]) -> Optional[str]:
    """`moment` in `layout`, or None where the two do not hold the same fields (a zero
    second may be added or left out; the 12-hour marker follows the hour)."""
    fields = {p for p in layout if p in _DATE_FIELDS + _TIME_FIELDS}
    have = set(moment) | ({"second"} if "minute" in moment else set())
    lost_second = moment.get("second", 0) and "second" not in fields
    if not fields <= have or not set(moment) - {"second"} <= fields or lost_second:
        return None
    twelve = "am/pm" in layout
    out = []
    for p in layout:
        if p == "year":
            out.append(f"{moment['year']:04d}")
        elif p == "hour" and twelve:
            out.append(f"{(moment['hour'] - 1) % 12 + 1:02d}")
        elif p == "am/pm":
            out.append("PM" if moment["hour"] >= 12 else "AM")
        elif p in _DATE_FIELDS + _TIME_FIELDS:
            out.append(f"{moment.get(p, 0):02d}")
        else:
            out.append(p)
    return "".join(out)


def conform(value: str, description: str, said: Optional[str] = None) -> Optional[str]:
    """`value` written in the date or time layout `description` names, where it is a date
    or time written otherwise ("06:30 AM" for 'HH:MM' is "06:30", "3-03-2024" for
    dd-mm-yyyy "03-03-2024"); None where there is nothing to rewrite. Fields the layout
    has no place for are left out only where `said` (the user's words) tells the moment
    without them: "2022-04-20" is "04-2022" for 'mm-yyyy' after "in April 2022", where
    the model made up the day."""
    layout = described_layout(description)
    if layout is None:
        return None
    fields = {p for p in layout if p in _DATE_FIELDS + _TIME_FIELDS}
    moments: Optional[Told] = None  # what the user said, read once when first needed
    for moment in readings(value, layout):
        new = _written(moment, layout)
        if new is None and said is not None and fields < set(moment):
            moments = moments if moments is not None else told(said)
            trimmed = {k: v for k, v in moment.items() if k in fields}
            if is_told(trimmed, moments) and not is_told(moment, moments):
                new = _written(trimmed, layout)
        if new is not None:
            return new if new != value else None
    return None


_TOLD_TIME = re.compile(r"\b(\d{1,2})(?::(\d{2}))?(?::(\d{2}))?\s?([ap])\.?\s?m\b\.?|\b(\d{1,2}):(\d{2})(?::(\d{2}))?\b"
                        r"|\b(\d{1,2}) o'?clock\b|\b(noon|midnight)\b", re.I)
_TOLD_DATE = re.compile(
    r"\b(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})\b"                                        # 2024-03-03
    r"|\b(\d{1,2})[-/.](\d{1,2})[-/.](\d{4}|\d{2})\b"                                # 03/03/2024
    rf"|\b{_MONTH_NAME}\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(\d{{4}})\b)?"           # March 3rd, 2024
    rf"|\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH_NAME}(?:,?\s+(\d{{4}})\b)?"   # 3rd of March 2024
    rf"|\b{_MONTH_NAME},?\s+(?:of\s+)?(\d{{4}})\b"                                     # March 2024
    r"|\b(\d{1,2})/(\d{1,2})\b(?!/\d)", re.I)                                        # 12/25


def told(text: str) -> Told:
    """The dates and the times a text tells: every reading of each. A time told without
    am/pm may be either; a date told without a year, any year."""
    times: list[Moment] = []
    for m in _TOLD_TIME.finditer(text):
        if m[4]:
            times.append({"hour": int(_hour24(m[1], m[4])), "minute": int(m[2] or 0), "second": int(m[3] or 0)})
        elif m[9]:
            times.append({"hour": 12 if m[9].lower() == "noon" else 0, "minute": 0, "second": 0})
        else:
            hour, minute, second = (int(m[5]), int(m[6]), int(m[7] or 0)) if m[5] else (int(m[8]), 0, 0)
            times += [{"hour": h, "minute": minute, "second": second} for h in {hour, (hour + 12) % 24}]
    dates: list[Moment] = []
    for m in _TOLD_DATE.finditer(text):
        g = m.groups()
        if g[0]:
            found = [_moment(year=g[0], month=g[1], day=g[2])]
        elif g[3]:
            year = g[5] if len(g[5]) == 4 else f"20{g[5]}"
            found = [_moment(year=year, month=g[3], day=g[4]), _moment(year=year, month=g[4], day=g[3])]
        elif g[6]:
            found = [_moment(year=g[8], month=str(_MONTH[g[6].lower()]), day=g[7])]
        elif g[9]:
            found = [_moment(year=g[11], month=str(_MONTH[g[10].lower()]), day=g[9])]
        elif g[12]:
            found = [_moment(year=g[13], month=str(_MONTH[g[12].lower()]))]
        else:
            found = [_moment(month=g[14], day=g[15]), _moment(month=g[15], day=g[14])]
        dates += [d for d in found if d]
    return dates, times


def told_in(value: str, text: str) -> bool:
    """Whether `text` tells the date or time `value` is ("06:30" by "6:30 am", "19:00:00"
    by "7pm", "2024-03" by "March 2024"): its date by a date the text tells and its time
    by a time. A date told without its year stands for any year; "tomorrow" tells no date
    words can check."""
    found = readings(value)
    moments = told(text) if found else ([], [])
    return any(is_told(m, moments) for m in found)


def is_told(moment: Moment, moments: Told) -> bool:
    """Whether the moment's date fields are those of one of the told dates and its time
    fields those of one of the told times (a told date without a year: any year)."""
    dates, times = moments

    def matches(candidates: list[Moment], fields: tuple[str, ...]) -> bool:
        own = {k: v for k, v in moment.items() if k in fields}
        return not own or any(all(t.get(k, v if k == "year" else -1) == v for k, v in own.items())
                              for t in candidates)

    return matches(dates, _DATE_FIELDS) and matches(times, _TIME_FIELDS)
