"""Built-in local tools over one data directory, all offline.

Each domain is a module with `make_tools(data_dir, *, allowed_roots=None,
clock=None) -> list[Tool]`; the tools are closures bound to that directory, so
one process can serve several data directories. `local_tools` gathers them:

    from edgeagent.tools import local_tools
    registry = local_tools("~/assistant-data")
    registry.invoke("create_note", {"title": "Groceries", "body": "milk"})

Layout of a data directory (everything is created on first use)::

    files/            the only folder the file tools may touch by default
    notes.sqlite3     notes
    calendar.ics      events (iCalendar)
    contacts.vcf      contacts (vCard); contacts/*.vcf are read too
    drafts/, outbox/  messages (.eml); "sending" only writes to outbox/
    reminders.json    reminders and timers
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from pathlib import Path

from edgeagent.tool import ToolRegistry

from ._dates import Clock

__all__ = ["DOMAINS", "local_tools"]

#: The tool modules, in the order their tools are registered.
DOMAINS = ("files", "notes", "calendar", "contacts", "messages", "reminders",
           "calculator", "units", "system")


def local_tools(data_dir: Path | str, *, allowed_roots: Iterable[Path | str] | None = None,
                clock: Clock | None = None,
                domains: Iterable[str] | None = None) -> ToolRegistry:
    """A registry with the local tools bound to `data_dir`.

    Args:
        data_dir: Folder holding the user's data (created if missing).
        allowed_roots: Folders the file tools may use; default `<data_dir>/files`.
        clock: Returns "now" as a naive local datetime (tests pass a fixed one).
        domains: Only these modules (names from DOMAINS); default all.
    """
    data_dir = Path(data_dir).expanduser()
    data_dir.mkdir(parents=True, exist_ok=True)
    chosen = DOMAINS if domains is None else tuple(domains)
    unknown = [d for d in chosen if d not in DOMAINS]
    if unknown:
        raise ValueError(f"unknown tool domains {unknown}; known: {', '.join(DOMAINS)}")
    roots = None if allowed_roots is None else [Path(r).expanduser() for r in allowed_roots]
    registry = ToolRegistry()
    for name in chosen:
        module = importlib.import_module(f"{__name__}.{name}")
        registry.extend(module.make_tools(data_dir, allowed_roots=roots, clock=clock))
    return registry
