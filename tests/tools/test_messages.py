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

    sent = tools.invoke("send_draft", {"draft_id": d["draft_id"]})
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


def test_a_draft_may_go_to_someone_else(tools, data_dir, no_network):
    d = tools.invoke("draft_message", {"to": "ana@example.com", "body": "Numbers"})
    assert tools.invoke("send_draft", {"draft_id": d["draft_id"], "to": "Bob"})["to"] == "Bob"
    [eml] = list((data_dir / "outbox").glob("*.eml"))
    assert email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)["To"] == "Bob"


@pytest.mark.parametrize("name, args, param", [
    ("send_draft", {"draft_id": "0123456789ab"}, "draft_id"),
    ("send_draft", {"draft_id": "../../etc/passwd"}, "draft_id"),
    ("send_message", {"to": "Bob"}, "body"),
    ("send_message", {"body": "hi"}, "to"),
    ("send_message", {"to": " ", "body": "hi"}, "to"),
    ("send_message", {"draft_id": "0123456789ab", "to": "x", "body": "y"}, "draft_id"),
    ("send_message", {"to": "a@b.c\nBcc: evil@x.y", "body": "hi"}, "to"),
])
def test_send_errors(tools, data_dir, name, args, param):
    with pytest.raises(ToolArgumentError) as info:
        tools.invoke(name, args)
    assert info.value.parameter == param
    assert not (data_dir / "outbox").exists() or not any((data_dir / "outbox").iterdir())


def test_a_draft_sent_elsewhere_must_name_a_recipient(tools, data_dir):
    d = tools.invoke("draft_message", {"to": "ana@example.com", "body": "Numbers"})
    with pytest.raises(ToolArgumentError) as info:
        tools.invoke("send_draft", {"draft_id": d["draft_id"], "to": "a@b.c\nBcc: evil@x.y"})
    assert info.value.parameter == "to"
    assert (data_dir / "drafts" / f"{d['draft_id']}.eml").is_file()  # the draft is kept


def test_side_effects(tools):
    assert all(tools.get(n).side_effect for n in ("send_message", "send_draft", "draft_message"))
    assert not tools.get("list_drafts").side_effect
