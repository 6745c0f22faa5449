"""Argument values written the way a parameter's description asks for them.

Tool schemas often state a date format in prose ("The date, in the format mm-dd-yyyy")
rather than as a JSON Schema `pattern`, so the grammar cannot hold the model to it; the
0.5B model writes dates as ISO 8601 whatever the description says. An ISO date is
unambiguous, so it is rewritten in the format the description names.

Likewise a rate: the model copies "7%" as 7, where a number parameter that takes a
rate takes the fraction 0.07 unless its description asks for a percentage.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Mapping

__all__ = ["conform_dates", "conform_percentages"]

# "mm-dd-yyyy", "DD/MM/YYYY", "yyyy.mm.dd", "(month-day-year)": three parts, one separator.
_PART = r"(yyyy|mm|dd|year|month|day)"
_DATE_FORMAT = re.compile(rf"\b{_PART}([-/.]){_PART}\2{_PART}\b", re.I)
_PARTS = {"year": "yyyy", "month": "mm", "day": "dd"}
# A date written year first is unambiguous: 2023-06-01, and as the user may write it, 2023/6/1.
_ISO_DATE = re.compile(r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})")


def conform_dates(arguments: Mapping[str, Any], parameters: Mapping[str, Any]) -> dict[str, Any]:
    """`arguments` with each year-first date (2023-06-01, 2023/6/1) of a string parameter
    whose description names another date format written in that format (06-01-2023 for
    mm-dd-yyyy or "(month-day-year)")."""
    properties = parameters.get("properties") or {}
    out = dict(arguments)
    for key, value in arguments.items():
        schema = properties.get(key)
        if not isinstance(value, str) or not isinstance(schema, Mapping):
            continue
        fmt = _DATE_FORMAT.search(str(schema.get("description") or ""))
        iso = _ISO_DATE.fullmatch(value)
        if fmt is None or iso is None:
            continue
        parts = [_PARTS.get(p.lower(), p.lower()) for p in (fmt.group(1), fmt.group(3), fmt.group(4))]
        if sorted(parts) != ["dd", "mm", "yyyy"]:
            continue
        try:
            day = dt.date(int(iso.group(1)), int(iso.group(3)), int(iso.group(4)))
        except ValueError:  # not a real date: left as written
            continue
        fields = {"yyyy": f"{day.year:04d}", "mm": f"{day.month:02d}", "dd": f"{day.day:02d}"}
        out[key] = fmt.group(2).join(fields[p] for p in parts)
    return out


_PERCENT = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)\s*(%|percent\b)?", re.I)
# "in percentage", "as a percent" (a "%" alone is an example's: "as a decimal, e.g. 5% = 0.05")
_ASKS_PERCENT = re.compile(r"\bpercent(?:age)?s?\b", re.I)
_RATE = re.compile(r"(?:(?<![A-Za-z])[rR]|(?<=[a-z])R)ates?(?![a-z])")  # "interest_rate", "annualRate"


def conform_percentages(arguments: Mapping[str, Any], parameters: Mapping[str, Any], text: str) -> dict[str, Any]:
    """`arguments` with each value of a "number" parameter that `text` (what the user
    said) writes as a percentage (7 for "7%") written as a fraction (0.07), unless the
    parameter's description asks for a percentage ("the rate in percentage"). Where the
    text also writes the number bare ("5 years at 5%"), only a rate parameter (its name
    or description says so) is converted. Integer parameters ("lightness level in
    percentage") cannot take fractions: left as written."""
    percent, bare = set(), set()
    for m in _PERCENT.finditer(text):
        (percent if m.group(2) else bare).add(float(m.group(1)))
    properties = parameters.get("properties") or {}
    out = dict(arguments)
    for key, value in arguments.items():
        schema = properties.get(key)
        if (isinstance(value, bool) or not isinstance(value, (int, float)) or not isinstance(schema, Mapping)
                or "number" not in _types(schema) or float(value) not in percent):
            continue
        description = str(schema.get("description") or "")
        if _ASKS_PERCENT.search(description):
            continue
        if float(value) not in bare or _RATE.search(f"{key} {description}"):
            out[key] = round(float(value) / 100, 12)
    return out


def _types(schema: Mapping[str, Any]) -> list:
    t = schema.get("type")
    return t if isinstance(t, list) else [t]
