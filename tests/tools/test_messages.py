"""tools/messages.py: drafts and a local outbox; nothing leaves the device."""

from __future__ import annotations

import email
import email.policy
import socket

import pytest

from edgeagent.errors import ToolArgumentError


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*a, **k):
        raise AssertionError("a message tool opened a network connection")
    monkeypatch.setattr(socket.socket, "connect", refuse)


def test_draft_then_send(tools, data_dir, no_network):
    d = tools.invoke("draft_message", {"to": "ana@example.com", "body": "See you at 3",
                                       "subject": "Meeting"})
    assert (data_dir / "drafts" / f"{d['draft_id']}.eml").is_file()
    assert [x["subject"] for x in tools.invoke("list_drafts")["drafts"]] == ["Meeting"]

    sent = tools.invoke("send_message", {"draft_id": d["draft_id"]})
    assert sent["status"] == "sent to the local outbox"
    assert tools.invoke("list_drafts")["drafts"] == []
    [eml] = list((data_dir / "outbox").glob("*.eml"))
    msg = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert msg["To"] == "ana@example.com" and msg["Subject"] == "Meeting"
    assert msg.get_content().strip() == "See you at 3"
    assert eml.name.startswith("20300102T090000-")


def test_send_direct(tools, data_dir, no_network):
    sent = tools.invoke("send_message", {"to": "Bob", "body": "Running late"})
    assert sent["to"] == "Bob" and sent["body"] == "Running late"
    assert len(list((data_dir / "outbox").glob("*.eml"))) == 1


@pytest.mark.parametrize("args, param", [
    ({"draft_id": "0123456789ab"}, "draft_id"),
    ({"draft_id": "../../etc/passwd"}, "draft_id"),
    ({"to": "Bob"}, "body"),
    ({"body": "hi"}, "to"),
    ({"draft_id": "0123456789ab", "to": "x", "body": "y"}, "draft_id"),
    ({"to": "a@b.c\nBcc: evil@x.y", "body": "hi"}, "to"),
])
def test_send_errors(tools, data_dir, args, param):
    with pytest.raises(ToolArgumentError) as info:
        tools.invoke("send_message", args)
    assert info.value.parameter == param
    assert not (data_dir / "outbox").exists() or not any((data_dir / "outbox").iterdir())


def test_side_effects(tools):
    assert tools.get("send_message").side_effect and tools.get("draft_message").side_effect
    assert not tools.get("list_drafts").side_effect
