"""Dates and times: as a user tells them, and as a tool's description lays them out.

A user writes "6:30 am", "7pm", "March 3rd, 2024", "the 5th of July", "12/25/2024"; a
tool's description asks for 'HH:MM', 'YYYY-MM-DD HH:MM:SS', 'dd-mm-yyyy' or
"(month-day-year)". Both are read into fields (year, month, day, hour, minute, second).
A value the model wrote in any common layout (06:30 AM, 19:00:00, 2024-03-03, 3-03-2024,
12/25/2024) is written again in the layout its parameter's description names
(`conform`), and counts as stated by a query that tells the same fields (`told_in`):
the 0.5B model converts "6:30 am" to "06:30" correctly, and words alone cannot see that
the user gave it.

Words for a day or a moment counted from now ("tomorrow", "next Friday", "in 2 hours")
tell what they come to as of `clock()` (the moment `at` sets, else the local clock), and
a date or time a call writes that the user did not tell is written as the user told it
(`as_told`): the model cannot know today's date, and writes a day of its training data.
"""

from __future__ import annotations

import calendar
import contextlib
import contextvars
import datetime as dt
import re
from typing import Iterator, Mapping, Optional

from .request import MONTHS, relative_moments

__all__ = ["Moment", "Told", "described_layout", "readings", "conform", "told", "is_told", "told_in", "clock", "at",
           "as_told"]

# The moment "today", "tomorrow" and "in 2 hours" count from (`at`); unset, the local clock.
_NOW: contextvars.ContextVar[Optional[dt.datetime]] = contextvars.ContextVar("edgeagent_now", default=None)


def clock() -> dt.datetime:
    """Now: the moment `at` set for the code under way, else the local clock."""
    return _NOW.get() or dt.datetime.now()


@contextlib.contextmanager
def at(now: Optional[dt.datetime]) -> Iterator[None]:
    """Reads "today", "tomorrow" and "in 2 hours" as of `now` within the block (None: the
    local clock); per thread and task, so concurrent turns may each have their own."""
    token = _NOW.set(now)
    try:
        yield
    finally:
        _NOW.reset(token)

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
                        r"|\b(\d{1,2}) o'?clock\b|\b(noon|midnight)\b"
                        # "at 7" where a clause ends or a day or a purpose follows ("at 8 tonight",
                        # "at 7 to call mom"), not a quantity ("at 7 m/s", "at 12 percent")
                        r"|\bat (\d{1,2})(?![:.]?\d)(?=\s*(?:$|[.,;!?)]|(?:today|tonight|tomorrow|this|next|on|"
                        r"in the|every|to|and|for|with|sharp)\b))", re.I)
_HALF_OF_DAY = re.compile(r"\b(tonight|(?:this|in the|tomorrow) (?:morning|afternoon|evening)|at night)\b", re.I)
_TOLD_DATE = re.compile(
    r"\b(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})\b"                                        # 2024-03-03
    r"|\b(\d{1,2})[-/.](\d{1,2})[-/.](\d{4}|\d{2})\b"                                # 03/03/2024
    rf"|\b{_MONTH_NAME}\s*(\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(\d{{4}})\b)?"           # March 3rd, 2024; June01
    rf"|\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH_NAME}(?:,?\s+(\d{{4}})\b)?"   # 3rd of March 2024
    rf"|\b{_MONTH_NAME},?\s+(?:of\s+)?(\d{{4}})\b"                                     # March 2024
    r"|\b(\d{1,2})/(\d{1,2})\b(?!/\d)", re.I)                                        # 12/25


def told(text: str) -> Told:
    """The dates and the times a text tells: every reading of each. A time told without
    am/pm may be either; a date told without a year, any year. Words for a day or a moment
    counted from now ("tomorrow", "next Friday", "in 2 hours") tell what they come to as
    of `clock()`."""
    times: list[Moment] = []
    halves = {"am" if h.lower().endswith("morning") else "pm" for h in _HALF_OF_DAY.findall(text)}
    for m in _TOLD_TIME.finditer(text):
        if m[4]:
            times.append({"hour": int(_hour24(m[1], m[4])), "minute": int(m[2] or 0), "second": int(m[3] or 0)})
        elif m[9]:
            times.append({"hour": 12 if m[9].lower() == "noon" else 0, "minute": 0, "second": 0})
        else:
            hour, minute, second = (int(m[5]), int(m[6]), int(m[7] or 0)) if m[5] else (int(m[8] or m[10]), 0, 0)
            if hour > 23:
                continue
            hours = {hour, (hour + 12) % 24}
            if 1 <= hour < 12 and len(halves) == 1:  # "tonight at 8": 20:00 alone; "at 7 in the morning": 07:00
                hours = {hour + 12} if halves == {"pm"} else {hour}
            times += [{"hour": h, "minute": minute, "second": second} for h in sorted(hours)]
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
    for when in relative_moments(text, clock()):
        dates.append({"year": when.year, "month": when.month, "day": when.day})
        if isinstance(when, dt.datetime):
            times.append({"hour": when.hour, "minute": when.minute, "second": 0})
    return dates, times


def told_in(value: str, text: str) -> bool:
    """Whether `text` tells the date or time `value` is ("06:30" by "6:30 am", "19:00:00"
    by "7pm", "2024-03" by "March 2024"): its date by a date the text tells and its time
    by a time. A date told without its year stands for any year; "tomorrow" tells the date
    it is as of `clock()`."""
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


def _layout_of(value: str, moment: Moment) -> Optional[list[str]]:
    """The layout `value` is written in (as described_layout gives one), `moment` being
    the reading of it to keep: "2023-10-01T09:00" -> year - month - day T hour : minute."""
    value = value.strip()
    if m := _VALUE_TIME.fullmatch(value) or _VALUE_ISO.fullmatch(value):
        g = m.groupdict()
        parts: list[str] = []
        if g.get("year"):
            parts += ["year", g["sep"], "month"] + ([g["sep"], "day"] if g["day"] else [])
        if g["hour"]:
            if parts:
                parts.append(value[m.end("day"):m.start("hour")])
            parts += ["hour", ":", "minute"] + ([":", "second"] if g["second"] else [])
            if g["marker"]:
                parts += [value[m.end("second") if g["second"] else m.end("minute"):m.start("marker")], "am/pm"]
        end = max(m.end(k) for k in ("day", "minute", "second", "month") if g.get(k))
        return parts + ([value[end:]] if value[end:] and not g["marker"] else [])
    if m := _VALUE_NUMERIC.fullmatch(value):
        first = "month" if int(m[1]) == moment.get("month") and int(m[3]) == moment.get("day") else "day"
        return [first, m[2], "day" if first == "month" else "month", m[2], "year"]
    return None


def _date_of(moment: Moment) -> Optional[dt.date]:
    return dt.date(moment["year"], moment["month"], moment["day"]) if set(_DATE_FIELDS) <= moment.keys() else None


def as_told(values: Mapping[str, str], descriptions: Mapping[str, str], said: str) -> dict[str, str]:
    """The values of one call (by parameter) that write a date or time other than the one
    the user told, written with the user's in its place, in the value's own layout.

    A small model cannot know today's date: asked for "tomorrow at 9am" it writes
    "2023-10-01 09:00", a day of its training data. The dates a call writes that the user
    did not tell move by as many days as it takes the first of them to the one date the
    user told that no other value writes ("from tomorrow for 3 nights": check-in and
    check-out alike), or, where the user told as many dates, each to its own in order; a
    time the user did not tell becomes the one time the user told (a time told without
    am/pm is two readings: not one). A day the user told without its year ("on March
    20") is the nearest such day. A value that is a word for a day ("tomorrow") is
    written in the layout its description names. Nothing else is guessed."""
    out: dict[str, str] = {}
    read: dict[str, tuple[Moment, list[str]]] = {}
    layouts: dict[str, list[str]] = {}  # as the descriptions lay them out
    for key, value in values.items():
        described = layouts[key] = described_layout(descriptions.get(key, "")) or []
        found = readings(value, described)
        layout = _layout_of(value, found[0]) if found else None
        if layout is not None:
            read[key] = (found[0], layout)
        elif not found and "day" in described:
            meant = {w.date() if isinstance(w, dt.datetime) else w for w in relative_moments(value, clock())}
            if len(meant) == 1 and (new := _written(_fields(next(iter(meant))), described)) is not None:
                out[key] = new
    if not read:  # most calls write no date: what the user told need not be read
        return out
    moments = told(said)
    dates, times = moments
    written = set(re.findall(r"\d+", said))  # a date in a year the user wrote is the user's, not made up
    moment = {k: dict(m) for k, (m, _) in read.items()}  # as they will be written
    # A day told without its year ("on March 20"): the model's year is a guess; the
    # nearest such day is meant (the coming one for a reminder, the past one for a report).
    for m in moment.values():
        if _date_of(m) and str(m["year"]) not in written and not any(d == _only(m, _DATE_FIELDS) for d in dates) \
                and any("year" not in d and (d["month"], d["day"]) == (m["month"], m["day"]) for d in dates):
            m["year"] = _nearest_year(m["month"], m["day"], clock().date())
    wrong = {k: m for k, m in moment.items() if not is_told(m, moments)}
    right = [m for k, m in moment.items() if k not in wrong]

    def free(candidates: list[Moment], fields: tuple[str, ...]) -> list[Moment]:
        """The told moments (their `fields`) no value of the call writes, each once."""
        found: list[Moment] = []
        for c in candidates:
            own = {k: c[k] for k in fields if k in c}
            if set(own) == set(fields) and own not in found and \
                    not any(all(m.get(k) == v for k, v in own.items()) for m in right):
                found.append(own)
        return found

    off_dates = sorted((k for k, m in wrong.items() if _date_of(m) and str(m["year"]) not in written
                        and not is_told(_only(m, _DATE_FIELDS), moments)), key=lambda k: _date_of(wrong[k]))
    told_dates = sorted(free(dates, _DATE_FIELDS), key=_date_of)
    if off_dates and len(told_dates) == 1:
        shift = _date_of(told_dates[0]) - _date_of(wrong[off_dates[0]])
        for k in off_dates:
            try:
                wrong[k].update(_fields(_date_of(wrong[k]) + shift))
            except OverflowError:  # moved past year 9999: left as written
                pass
    elif off_dates and len(told_dates) == len(off_dates):
        for k, d in zip(off_dates, told_dates):
            wrong[k].update(d)
    off_times = [k for k, m in wrong.items() if "hour" in m and not is_told(_only(m, _TIME_FIELDS), moments)]
    # a date where the description lays out a date and time: the model left out the time
    timeless = [k for k, m in moment.items() if "hour" not in m and _date_of(m) and "hour" in layouts[k]]
    told_times = free(times, _TIME_FIELDS)
    if len(off_times) + len(timeless) == 1 and len(told_times) == 1:
        k = (off_times + timeless)[0]
        moment[k].update({f: v for f, v in told_times[0].items() if f in moment[k] or v or k in timeless})
    for k, m in moment.items():
        layout = layouts[k] if k in timeless and "hour" in m else read[k][1]
        if m != read[k][0] and (new := _written(m, layout)) is not None:
            out[k] = new
    return out


def _only(moment: Moment, fields: tuple[str, ...]) -> Moment:
    return {k: v for k, v in moment.items() if k in fields}


def _nearest_year(month: int, day: int, today: dt.date) -> int:
    """The year of the `month`/`day` nearest to `today` (Feb 29: of a leap year)."""
    days = [dt.date(y, month, day) for y in range(max(today.year - 4, 1), min(today.year + 5, 10000))
            if (month, day) != (2, 29) or calendar.isleap(y)]
    return min(days, key=lambda d: abs(d - today)).year


def _fields(day: dt.date) -> Moment:
    return {"year": day.year, "month": day.month, "day": day.day}
