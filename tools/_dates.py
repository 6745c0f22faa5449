"""ISO 8601 date arguments: parsed with a message a small model can act on."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from edgeagent.errors import ToolArgumentError

__all__ = ["Clock", "parse_date_or_datetime", "parse_datetime", "local_now"]

#: Returns "now" as a naive local datetime; injectable so tests are deterministic.
Clock = Callable[[], dt.datetime]


def local_now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


def _fail(name: str, value: object, want: str) -> ToolArgumentError:
    return ToolArgumentError.about(name, f"{value!r} is not an ISO 8601 {want} "
                                         f"(expected e.g. '2025-03-14T15:00' or '2025-03-14')")


def parse_datetime(value: str, name: str) -> dt.datetime:
    """An ISO 8601 date-time; a bare date means midnight. Aware values keep their offset."""
    if not isinstance(value, str):
        raise _fail(name, value, "date-time")
    text = value.strip().replace(" ", "T", 1) if "T" not in value else value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        raise _fail(name, value, "date-time") from None


def parse_date_or_datetime(value: str, name: str) -> dt.date | dt.datetime:
    """A date ('2025-03-14', all-day) or a date-time ('2025-03-14T15:00')."""
    if isinstance(value, str) and len(value.strip()) == 10:
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            raise _fail(name, value, "date") from None
    return parse_datetime(value, name)
