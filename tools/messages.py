"""Message tools: drafts and an outbox folder. Nothing ever leaves the device.

A draft is an RFC 5322 message (`email.message.EmailMessage`) saved as
`<data_dir>/drafts/<draft_id>.eml`; "sending" writes the message to
`<data_dir>/outbox/` and removes the draft. Another program may pick the
outbox up; these tools never open a network connection.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import os
import re
import uuid
from collections.abc import Iterable
from email.message import EmailMessage
from pathlib import Path

from edgeagent.errors import ToolArgumentError
from edgeagent.tool import Tool, tool

from ._asked import TO_DRAFT
from ._atomic import atomic_write_bytes, file_lock
from ._dates import Clock, local_now

__all__ = ["make_tools", "DRAFTS_DIR", "OUTBOX_DIR", "read_messages"]

DRAFTS_DIR = "drafts"
OUTBOX_DIR = "outbox"
MAX_BODY_CHARS = 100_000
_ID_RE = re.compile(r"^[0-9a-f]{12}$")
_ID_HEADER = "X-Edgeagent-Draft-Id"


def _summary(msg: EmailMessage, path: Path) -> dict:
    body = msg.get_body(preferencelist=("plain",))
    return {"draft_id": msg.get(_ID_HEADER, path.stem), "to": msg.get("To", ""),
            "subject": msg.get("Subject", ""), "date": msg.get("Date", ""),
            "body": body.get_content().rstrip("\n") if body is not None else "", "file": path.name}


def _recipient(to: str) -> str:
    """`to` as a message header: a recipient on a single line."""
    if not to.strip():
        raise ToolArgumentError.about("to", "must name a recipient")
    if "\n" in to or "\r" in to:
        raise ToolArgumentError.about("to", "must be a single line")
    return to.strip()


def read_messages(folder: Path) -> list[dict]:
    """The messages of a drafts or outbox folder, oldest first."""
    out = []
    for p in sorted(Path(folder).glob("*.eml"), key=lambda p: (p.stat().st_mtime, p.name)):
        with open(p, "rb") as f:
            msg = email.message_from_binary_file(f, policy=email.policy.default)
        out.append(_summary(msg, p))
    return out


def make_tools(data_dir: Path, *, allowed_roots: Iterable[Path] | None = None,
               clock: Clock | None = None) -> list[Tool]:
    """The message tools over `<data_dir>/drafts` and `<data_dir>/outbox`."""
    drafts = Path(data_dir) / DRAFTS_DIR
    outbox = Path(data_dir) / OUTBOX_DIR
    now = clock or local_now

    def compose(to: str, body: str, subject: str, draft_id: str) -> EmailMessage:
        recipient = _recipient(to)
        if "\n" in subject or "\r" in subject:
            raise ToolArgumentError.about("subject", "must be a single line")
        if len(body) > MAX_BODY_CHARS:
            raise ToolArgumentError.about("body", f"is longer than {MAX_BODY_CHARS} characters")
        msg = EmailMessage()
        msg["To"] = recipient
        msg["From"] = "me@localhost"
        msg["Subject"] = subject.strip()
        msg["Date"] = email.utils.format_datetime(now().astimezone())
        msg["Message-ID"] = email.utils.make_msgid(domain="localhost")
        msg[_ID_HEADER] = draft_id
        msg.set_content(body)
        return msg

    def draft_path(draft_id: str) -> Path:
        if not _ID_RE.match(draft_id or ""):
            raise ToolArgumentError.about("draft_id", f"{draft_id!r} is not a draft id (see list_drafts)")
        p = drafts / f"{draft_id}.eml"
        if not p.is_file():
            raise ToolArgumentError.about("draft_id", f"there is no draft with id {draft_id!r}")
        return p

    @tool(side_effect=True, only_if_said=TO_DRAFT)
    def draft_message(to: str, body: str, subject: str = "") -> dict:
        """Write a message and keep it as a draft (it is not sent).

        Args:
            to: Recipient: a name, an email address or a phone number.
            body: Text of the message.
            subject: Subject line.
        """
        draft_id = uuid.uuid4().hex[:12]
        msg = compose(to, body, subject, draft_id)
        p = drafts / f"{draft_id}.eml"
        atomic_write_bytes(p, bytes(msg))
        return _summary(msg, p)

    @tool
    def list_drafts() -> dict:
        """List the messages saved as drafts."""
        return {"drafts": read_messages(drafts)}

    def send(msg: EmailMessage, name: str) -> dict:
        dest = outbox / f"{now().strftime('%Y%m%dT%H%M%S')}-{name}.eml"
        atomic_write_bytes(dest, bytes(msg))
        result = _summary(msg, dest)
        result["status"] = "sent to the local outbox"
        return result

    # Two tools, not one with "either a draft or to and body": with every argument
    # optional, a small model sent messages with no body or no recipient, and made up a
    # body for "send my draft".
    @tool(side_effect=True)
    def send_message(to: str, body: str, subject: str = "") -> dict:
        """Send (text, email, tell) someone a message now.

        Args:
            to: Recipient: a name, an email address or a phone number.
            body: Text of the message.
            subject: Subject line.
        """
        new_id = uuid.uuid4().hex[:12]
        return send(compose(to, body, subject, new_id), new_id)

    @tool(side_effect=True, only_if_said=TO_DRAFT)
    def send_draft(draft_id: str, to: str | None = None) -> dict:
        """Send a saved draft now.

        Args:
            draft_id: Id of the draft (from draft_message or list_drafts).
            to: Recipient, only to send it to someone other than the draft's.
        """
        draft_path(draft_id)  # a checked id before a lock file is named after it
        with file_lock(drafts / f"{draft_id}.eml"):
            src = draft_path(draft_id)  # and still there once the lock is held
            with open(src, "rb") as f:
                msg = email.message_from_binary_file(f, policy=email.policy.default)
            if to is not None:
                msg.replace_header("To", _recipient(to))
            msg.replace_header("Date", email.utils.format_datetime(now().astimezone()))
            result = send(msg, draft_id)
            os.unlink(src)  # only after the outbox copy is safely on disk
        return result

    return [draft_message, list_drafts, send_message, send_draft]
