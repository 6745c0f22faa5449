"""Reading a request before planning: its clauses, and its dates written out.

Two generic aids for small models, neither specific to any tool or task:

* `clauses("note X and remind me Y")` -> ["note X", "remind me Y"]: a request with
  several clauses usually needs a call for each; tool retrieval searches per clause
  (one intent per query embeds better) and the plan grammar asks for at least as
  many calls as there are clauses.
* `annotate_dates(text, now)`: "next Tuesday at 3pm" -> the request followed by a line
  "(next Tuesday = 2026-03-17; 3pm = 15:00)". A 0.5B model copies a date well but
  computes one badly; on a line of its own the dates do not leak into copied text.
  `relative_moments(text, now)` gives what its words for a day or a moment from now
  ("tomorrow", "in 2 hours", "3 days ago") come to, for function calling's dates.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Optional, Union

__all__ = ["clauses", "annotate_dates", "refused_actions", "says_all_day", "repetition", "possessions", "stated_time",
           "hands_on", "states_a_date", "stated_duration", "relative_moments"]

# The verbs that start a request's clauses: after a comma, one starts another clause
# ("Add Helen to my contacts, put a party in my calendar and ..."), where a comma
# otherwise separates list items.
_VERBS = ("add", "put", "create", "make", "send", "write", "remind", "set", "schedule", "book", "delete", "cancel",
          "move", "rename", "copy", "save", "tell", "text", "message", "email", "invite", "read", "find", "search",
          "look", "convert", "calculate", "draft", "record", "list", "show")
_SPLIT = re.compile(r",?\s+(?:and then|and also|and|then|also)\s+|;\s*|[.?!]\s+(?=[A-Z])|,\s+(?=(?:"
                    + "|".join(_VERBS) + r")\b)", re.I)
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
MIN_CLAUSE_WORDS = 3  # shorter pieces are list items ("apples, bananas and rice"), not clauses
# ... unless a verb that reads something starts them: "Read todo.txt and make a note ..."
_READING_VERBS = {"read", "open", "find", "search", "check", "list", "show", "get", "fetch", "convert", "calculate"}


def _is_clause(piece: str, after_and: bool = False) -> bool:
    words = piece.split()
    if after_and and words[0][:1].isupper() and words[0] != "I" and words[0].lower() not in _VERBS:
        return False  # "... with Dune and Emma, tagged reading": a name goes on a list
    return len(words) >= MIN_CLAUSE_WORDS or (len(words) == 2 and words[0].lower() in _READING_VERBS)


def clauses(text: str) -> list[str]:
    """The request's clauses, in order (at least one)."""
    # Quoted text is one unit: protect it from the split.
    quoted: list[str] = []

    def hide(m: re.Match) -> str:
        quoted.append(m.group(0))
        return f"\x00{len(quoted) - 1}\x00"

    hidden = _QUOTED.sub(hide, text.strip().rstrip("."))
    # each piece with whether a conjunction (not a sentence's end) comes before it
    parts: list[tuple[str, bool]] = []
    start, after_and = 0, False
    for m in [*_SPLIT.finditer(hidden), None]:
        piece = hidden[start:m.start() if m else len(hidden)].strip(" ,")
        if piece:
            parts.append((piece, after_and))
        if m:
            start, after_and = m.end(), m.group(0).strip()[:1] not in (";", ".", "?", "!")
    merged: list[str] = []
    for p, after_and in parts:
        if merged and not (_is_clause(p, after_and) and _is_clause(merged[-1])):
            merged[-1] = f"{merged[-1]} and {p}"
        else:
            merged.append(p)
    restore = re.compile(r"\x00(\d+)\x00")
    return [restore.sub(lambda m: quoted[int(m.group(1))], p) for p in merged] or [text]


_REFUSAL = re.compile(r"\b(?:don['’]?t|do not|never|without|not to)\s+(?:(?:ever|yet|actually|really|just)\s+)?([a-z]+)",
                      re.I)


def refused_actions(text: str) -> set[str]:
    """The verbs the request says not to do ("draft it but don't send it" -> {"send"}),
    with the plain forms an -ing form may stand for ("without deleting" -> "delete")."""
    out = set()
    for m in _REFUSAL.finditer(text):
        verb = m.group(1).lower()
        out.add(verb)
        if verb.endswith("ing") and len(verb) > 5:
            stem = verb[:-3]
            out |= {stem, stem + "e"} | ({stem[:-1]} if stem[-1] == stem[-2] else set())  # send, move, set
    return out


_ALL_DAY = re.compile(r"\b(?:all|whole)[- ]day\b", re.I)


# "Ana's phone number", "David's email address": a named one's detail, which is stored
# somewhere (a contact, a note) and must be looked up, not written from the model's guess.
_POSSESSION = re.compile(r"\b([A-Z][\w-]*)['’]s\s+((?:[a-z]+\s+){0,2}[a-z]+)\b")
_FUNCTION_WORDS = {"a", "an", "the", "on", "at", "in", "to", "for", "and", "or", "is", "was", "will", "with", "by",
                   "from", "of", "about", "this", "that", "it", "as"}


def possessions(text: str) -> list[str]:
    """The phrases of the request that name a detail of someone or something named:
    "Send Ana's phone number to Bob" -> ["Ana's phone number"]. What follows the
    possessive runs up to the first function word ("Luigi's on Saturday" names nothing)."""
    out = []
    for m in _POSSESSION.finditer(text):
        words = []
        for w in m.group(2).split():
            if w in _FUNCTION_WORDS:
                break
            words.append(w)
        if words:
            out.append(f"{m.group(1)}'s {' '.join(words)}")
    return out


# A clause that hands on what an earlier call found: "send the result to Emma", "a note
# saying what you found", "tell Bob what is on my calendar", "save it in a note".
_HANDS_ON = re.compile(r"\b(?:the\s+(?:results?|answers?|total|sum|outcome|findings|time|date)|"
                       r"what\s+(?:you|it|they)\s+(?:found|find|says?|said|returns?|returned)|"
                       r"what\s+(?:is|are|was|were|i\s+have)\s+(?:on|in)|it|them)\b", re.I)


def hands_on(clause: str) -> bool:
    """Whether `clause` asks to pass on an earlier call's result rather than state its own text."""
    return bool(_HANDS_ON.search(clause))


def says_all_day(text: str) -> bool:
    """Whether the request asks for an all-day event ("as an all-day event", "the whole day")."""
    return bool(_ALL_DAY.search(text))


_FREQUENCIES = {"day": "daily", "week": "weekly", "month": "monthly", "year": "yearly"}
_EVERY = re.compile(r"\b(daily|weekly|monthly|yearly|annually)\b|\b(?:every|each)\s+(day|week|month|year|"
                    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b", re.I)
_NUMBER_WORDS = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"]
_NUMBER = r"(\d+|" + "|".join(_NUMBER_WORDS) + ")"
_TIMES = re.compile(_NUMBER + r"\s+(?:times|occurrences)\b|\bfor\s+(?:the\s+next\s+)?" + _NUMBER +
                    r"\s+(day|week|month|year)s?\b", re.I)


def repetition(text: str) -> tuple[str, int | None] | None:
    """How often the request says something repeats and how many times: "every week ...,
    8 times" -> ("weekly", 8); "a daily standup for 10 days" -> ("daily", 10); None if it
    does not say. A count "for N weeks" counts only in the repetition's own unit."""
    every = _EVERY.search(text)
    if every is None:
        return None
    word = (every.group(1) or every.group(2)).lower()
    # "every Thursday" repeats weekly
    frequency = {"annually": "yearly"}.get(word) or _FREQUENCIES.get(word) or (word if word.endswith("ly") else "weekly")
    count = None
    for m in _TIMES.finditer(text):
        number, unit = (m.group(1), None) if m.group(1) else (m.group(2), m.group(3).lower())
        if unit is None or _FREQUENCIES[unit] == frequency:
            count = int(number) if number.isdigit() else _NUMBER_WORDS.index(number.lower()) + 1
            break
    return frequency, count


WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september",
           "october", "november", "december"]
_DAY_WORD = re.compile(r"\b(?:(next|this|on)\s+)?((?:the\s+)?day\s+(?:after\s+tomorrow|before\s+yesterday)|today|"
                       r"tonight|tomorrow|yesterday|" + "|".join(WEEKDAYS) + r")\b(\s+next\s+week)?", re.I)
_DAYS_FROM_TODAY = {"today": 0, "tonight": 0, "tomorrow": 1, "yesterday": -1}
_MONTH_DAY = re.compile(r"\b(" + "|".join(MONTHS) + r")\s+(\d{1,2})(?:st|nd|rd|th)?\b", re.I)
_TIME = re.compile(r"\b(\d{1,2})(?::(\d{2}))?\s*(am|pm)\b|\b(noon|midnight)\b", re.I)
_CLOCK = re.compile(r"\b([01]?\d|2[0-3]):([0-5]\d)\b(?!\s*[ap]\.?m)", re.I)  # "at 7:15", "19:30": a 24-hour time


def _weekday_date(now: dt.datetime, word: str, modifier: str, next_week: bool) -> dt.date:
    target = WEEKDAYS.index(word)
    ahead = (target - now.weekday()) % 7 or 7  # "Tuesday" on a Tuesday means the next one
    day = now.date() + dt.timedelta(days=ahead)
    if next_week:  # "Friday next week": the one in the coming calendar week
        monday_next = now.date() + dt.timedelta(days=7 - now.weekday())
        day = monday_next + dt.timedelta(days=target)
    return day


_COUNTS = {"a": 1, "an": 1, **{w: i + 1 for i, w in enumerate(_NUMBER_WORDS)}, "fifteen": 15, "twenty": 20,
           "thirty": 30, "forty": 40, "forty-five": 45, "fifty": 50, "sixty": 60, "ninety": 90}
_OFFSET = re.compile(r"\b(?:(\d+|" + "|".join(_COUNTS) + r")\s+"
                     r"(minute|hour|day|week)s?|the\s+(day|week)|(half an hour))\s+(before|earlier|after|later)\b"
                     r"(?!\s+(?:yesterday|tomorrow))", re.I)  # "the day after tomorrow" is a day word
# A moment counted from now: "in 2 hours", "in half an hour", "3 days from now", "two weeks
# ago", "right now" ("now" after a word: a sentence's opening "Now, ..." tells no time).
_FROM_NOW = re.compile(r"\bin\s+(?:(\d+|" + "|".join(_COUNTS) + r")\s+(minute|hour|day|week)s?|(half an hour))\b"
                       r"|\b(\d+|" + "|".join(_COUNTS) + r")\s+(minute|hour|day|week)s?\s+(from now|ago)\b"
                       r"|\b(right now|at the moment|currently)\b|(?<=\w )(now)\b", re.I)


def annotate_dates(text: str, now: dt.datetime) -> str:
    """`text` and, on a line after it, the ISO dates and 24-hour times its date and time words
    mean, and what an offset from them ("an hour before", "the day before") comes to."""
    mentions = _mentions(text, now)
    found = [f"{phrase} = {_iso(value)}" for _, phrase, value in mentions if phrase != _iso(value)]
    found += [f"{phrase} = {_iso(value)}" for phrase, value in _offsets(text, now)]
    return f"{text}\n({'; '.join(dict.fromkeys(found))})" if found else text


_DURATION = re.compile(r"\bfor\s+(?:(\d+(?:\.\d+)?|" + "|".join(_COUNTS) + r")\s+(hours?|minutes?|mins?)|"
                       r"(half an hour))\b", re.I)
_ISO_DAY = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


def stated_duration(clause: str) -> Optional[float]:
    """The one length of time, in minutes, a clause states with "for" ("for two hours" ->
    120, "for 45 minutes" -> 45); None if it states none or several."""
    found = _DURATION.findall(clause)
    if len(found) != 1:
        return None
    count, unit, half = found[0]
    if half:
        return 30.0
    n = float(count) if count[0].isdigit() else _COUNTS[count.lower()]
    return n * 60 if unit.lower().startswith("hour") else n


def states_a_date(text: str) -> bool:
    """Whether `text` names a day, a date, a time of day or an offset from one."""
    return any(p.search(text) for p in (_DAY_WORD, _MONTH_DAY, _TIME, _CLOCK, _OFFSET, _ISO_DAY))


def stated_time(clause: str, now: dt.datetime,
                request: Optional[str] = None) -> Optional[tuple[Optional[dt.date], tuple[int, int]]]:
    """The one time of day a clause states, and its one date if it states one: ("remind me
    at 9am" -> (None, (9, 0)); "on Sunday at 8am" -> (that Sunday, (8, 0))). None when it
    states no time, several times or dates. A clause with an offset ("remind me an hour
    before", "the day before at 9am") states the date and time the offset comes to in the
    whole `request` (the clause it counts from may be another), None without it."""
    if _OFFSET.search(clause):
        if request is None:
            return None
        meant = {v for phrase, v in _offsets(request, now) if isinstance(v, dt.datetime) and phrase in clause}
        if len(meant) != 1:
            return None
        at = next(iter(meant))
        return at.date(), (at.hour, at.minute)
    mentions = _mentions(clause, now)
    dates = {v for _, _, v in mentions if isinstance(v, dt.date)}
    times = {v for _, _, v in mentions if isinstance(v, tuple)}
    if len(times) != 1 or len(dates) > 1:
        return None
    return (next(iter(dates)) if dates else None), next(iter(times))


def _iso(value: object) -> str:
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="minutes")
    return value.isoformat() if isinstance(value, dt.date) else f"{value[0]:02d}:{value[1]:02d}"


def relative_moments(text: str, now: dt.datetime) -> list[Union[dt.date, dt.datetime]]:
    """What the words of `text` for a day or a moment counted from `now` come to: a date
    for "tomorrow", "next Friday", "yesterday", "in 3 days", "two weeks ago"; a date and
    time (to the minute) for "in 2 hours", "in half an hour", "right now"."""
    out: list[Union[dt.date, dt.datetime]] = [d for _, _, d in _day_words(text, now)]
    for m in _FROM_NOW.finditer(text):
        if m.group(7) or m.group(8):
            out.append(now.replace(second=0, microsecond=0))
            continue
        half, count, unit = m.group(3), m.group(1) or m.group(4), (m.group(2) or m.group(5) or "").lower()
        amount = 0.5 if half else float(count) if count.isdigit() else _COUNTS[count.lower()]
        sign = -1 if (m.group(6) or "").lower() == "ago" else 1
        try:
            at = now + dt.timedelta(**{(unit or "hour") + "s": sign * amount})
        except OverflowError:  # "in 99999999 days": past the calendar
            continue
        out.append(at.date() if unit in ("day", "week") else at.replace(second=0, microsecond=0))
    return out


def _day_words(text: str, now: dt.datetime) -> list[tuple[int, str, dt.date]]:
    """(position, phrase, date) of each word for a day ("tomorrow", "next Friday")."""
    out: list[tuple[int, str, dt.date]] = []
    for m in _DAY_WORD.finditer(text):
        word, next_week = " ".join(m.group(2).lower().split()), bool(m.group(3))
        if word.endswith(("after tomorrow", "before yesterday")):
            d = now.date() + dt.timedelta(days=2 if word.endswith("tomorrow") else -2)
        elif word in _DAYS_FROM_TODAY:
            d = now.date() + dt.timedelta(days=_DAYS_FROM_TODAY[word])
        else:
            d = _weekday_date(now, word, (m.group(1) or "").lower(), next_week)
        out.append((m.start(), m.group(0), d))
    return out


def _mentions(text: str, now: dt.datetime) -> list[tuple[int, str, object]]:
    """(position, phrase, value) of each date word (a `dt.date`) and time word (an (hour,
    minute) pair) in `text`, dates before times (as they are listed)."""
    out: list[tuple[int, str, object]] = list(_day_words(text, now))
    for m in _MONTH_DAY.finditer(text):
        try:
            d = dt.date(now.year, MONTHS.index(m.group(1).lower()) + 1, int(m.group(2)))
        except ValueError:
            continue
        out.append((m.start(), m.group(0), d if d >= now.date() else d.replace(year=d.year + 1)))
    for m in _TIME.finditer(text):
        if m.group(4):
            out.append((m.start(), m.group(0), (12, 0) if m.group(4).lower() == "noon" else (0, 0)))
            continue
        hour, minute = int(m.group(1)), int(m.group(2) or 0)
        if 1 <= hour <= 12 and minute < 60:
            out.append((m.start(), m.group(0), (hour % 12 + (12 if m.group(3).lower() == "pm" else 0), minute)))
    for m in _CLOCK.finditer(text):
        out.append((m.start(), m.group(0), (int(m.group(1)), int(m.group(2)))))
    return out


def _offsets(text: str, now: dt.datetime) -> list[tuple[str, Union[dt.date, dt.datetime]]]:
    """("an hour before", 2026-03-17T14:00): each offset phrase applied to the last date
    and time written before it, or else the first after it ("30 minutes before the call on
    Friday at 10am"). A small model cannot subtract an hour from 15:00 reliably."""
    mentions = sorted(_mentions(text, now), key=lambda m: m[0])
    out: list[tuple[str, Union[dt.date, dt.datetime]]] = []
    for m in _OFFSET.finditer(text):
        near = [v for pos, _, v in reversed(mentions) if pos < m.start()] + \
               [v for pos, _, v in mentions if pos > m.start()]
        day = next((v for v in near if isinstance(v, dt.date)), None)
        time = next((v for v in near if isinstance(v, tuple)), None)
        if m.group(4):
            amount, unit = 0.5, "hour"
        elif m.group(3):
            amount, unit = 1, m.group(3).lower()
        else:
            count = m.group(1).lower()
            amount, unit = float(count) if count.isdigit() else _COUNTS[count], m.group(2).lower()
        sign = -1 if m.group(5).lower() in ("before", "earlier") else 1
        delta = dt.timedelta(**{unit + "s": sign * amount})
        if unit in ("day", "week"):
            if day is None or delta.days * 86400 != delta.total_seconds():
                continue
            at = re.match(r"\s+at\s+", text[m.end():])  # "the day before at 9am"
            clock = _mentions(text[m.end() + at.end():], now) if at else []
            if clock and clock[0][0] == 0 and isinstance(clock[0][2], tuple):
                out.append((f"{m.group(0)} at {clock[0][1]}", dt.datetime.combine(day + delta, dt.time(*clock[0][2]))))
            else:
                out.append((m.group(0), day + delta))
        elif day is not None and time is not None:
            out.append((m.group(0), dt.datetime.combine(day, dt.time(*time)) + delta))
    return out
