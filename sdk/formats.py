"""Argument values written the way a parameter's description asks for them.

Tool schemas often state a date format in prose ("The date, in the format mm-dd-yyyy")
rather than as a JSON Schema `pattern`, so the grammar cannot hold the model to it; the
0.5B model writes dates as ISO 8601 whatever the description says. An ISO date is
unambiguous, so it is rewritten in the format the description names.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Mapping

__all__ = ["conform_dates"]

# "mm-dd-yyyy", "DD/MM/YYYY", "yyyy.mm.dd": three parts, one separator.
_DATE_FORMAT = re.compile(r"\b(yyyy|mm|dd)([-/.])(yyyy|mm|dd)\2(yyyy|mm|dd)\b", re.I)
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def conform_dates(arguments: Mapping[str, Any], parameters: Mapping[str, Any]) -> dict[str, Any]:
    """`arguments` with each ISO date (2023-06-01) of a string parameter whose description
    names another date format written in that format (06-01-2023 for mm-dd-yyyy)."""
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
        parts = [fmt.group(1).lower(), fmt.group(3).lower(), fmt.group(4).lower()]
        if sorted(parts) != ["dd", "mm", "yyyy"]:
            continue
        try:
            dt.date(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
        except ValueError:  # not a real date: left as written
            continue
        fields = {"yyyy": iso.group(1), "mm": iso.group(2), "dd": iso.group(3)}
        out[key] = fmt.group(2).join(fields[p] for p in parts)
    return out
