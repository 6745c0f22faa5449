"""Contact tools over vCard files, read and written with `vobject`.

New contacts go to `<data_dir>/contacts.vcf`; `find_contact` also reads any
`<data_dir>/contacts/*.vcf` (an address book exported from another program).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from pathlib import Path

import vobject

from edgeagent.errors import ToolArgumentError
from edgeagent.tool import Tool, tool

from ._atomic import atomic_write_text, file_lock
from ._dates import Clock

__all__ = ["make_tools", "CONTACTS_NAME", "read_contacts"]

CONTACTS_NAME = "contacts.vcf"
MAX_RESULTS = 20
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE_RE = re.compile(r"^\+?[0-9 ()./-]{3,}$")


def _card_dict(card: vobject.base.Component) -> dict:
    out = {"name": card.fn.value if hasattr(card, "fn") else "",
           "emails": [e.value for e in card.contents.get("email", [])],
           "phones": [t.value for t in card.contents.get("tel", [])]}
    if hasattr(card, "uid"):
        out["contact_id"] = card.uid.value
    return out


def read_contacts(data_dir: Path) -> list[dict]:
    """Every contact in the data directory's vCard files, as plain dicts."""
    data_dir = Path(data_dir)
    files = [data_dir / CONTACTS_NAME, *sorted((data_dir / "contacts").glob("*.vcf"))]
    contacts = []
    for f in files:
        if f.is_file():
            text = f.read_text(encoding="utf-8", errors="replace")
            contacts += [_card_dict(c) for c in vobject.readComponents(text)
                         if c.name == "VCARD"]
    return contacts


def _digits(s: str) -> str:
    return re.sub(r"\D", "", s)


def make_tools(data_dir: Path, *, allowed_roots: Iterable[Path] | None = None,
               clock: Clock | None = None) -> list[Tool]:
    """The contact tools over the vCard files of `data_dir`."""
    data_dir = Path(data_dir)
    path = data_dir / CONTACTS_NAME

    @tool
    def find_contact(query: str) -> dict:
        """Look up people in the address book by name, email or phone number.

        Args:
            query: Part of a name ("ana"), an email address or a phone number.
        """
        needle = query.strip().lower()
        if not needle:
            raise ToolArgumentError.about("query", "must not be empty")
        words = needle.split()
        digits = _digits(needle)
        hits = []
        for c in read_contacts(data_dir):
            name = c["name"].lower()
            if (all(w in name for w in words)
                    or any(needle in e.lower() for e in c["emails"])
                    or (len(digits) >= 3 and any(digits in _digits(p) for p in c["phones"]))):
                hits.append(c)
        return {"query": query, "contacts": hits[:MAX_RESULTS],
                "truncated": len(hits) > MAX_RESULTS}

    @tool(side_effect=True)
    def add_contact(name: str, email: str | None = None, phone: str | None = None) -> dict:
        """Add a person to the address book.

        Args:
            name: Full name, e.g. "Ana López".
            email: Email address.
            phone: Phone number, e.g. "+34 600 123 456".
        """
        name = " ".join(name.split())
        if not name:
            raise ToolArgumentError.about("name", "must not be empty")
        if email is not None and not _EMAIL_RE.match(email.strip()):
            raise ToolArgumentError.about("email", f"{email!r} is not an email address")
        if phone is not None and not _PHONE_RE.match(phone.strip()):
            raise ToolArgumentError.about("phone", f"{phone!r} is not a phone number")
        card = vobject.vCard()
        card.add("fn").value = name
        parts = name.rsplit(" ", 1)
        card.add("n").value = vobject.vcard.Name(
            family=parts[1] if len(parts) == 2 else "", given=parts[0])
        if email:
            card.add("email").value = email.strip()
            card.email.type_param = "INTERNET"
        if phone:
            card.add("tel").value = phone.strip()
        card.add("uid").value = uuid.uuid4().hex
        with file_lock(path):
            old = path.read_text(encoding="utf-8") if path.exists() else ""
            if any(c["name"].lower() == name.lower() for c in read_contacts(data_dir)):
                raise ToolArgumentError.about("name", f"a contact named {name!r} already exists")
            sep = "" if not old or old.endswith("\n") else "\r\n"
            atomic_write_text(path, old + sep + card.serialize())
        return _card_dict(card)

    return [find_contact, add_contact]
