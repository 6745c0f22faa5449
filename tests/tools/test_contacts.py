"""tools/contacts.py: vCard address book."""

from __future__ import annotations

import pytest
import vobject

from edgeagent.errors import ToolArgumentError


def test_add_and_find(tools, data_dir):
    tools.invoke("add_contact", {"name": "Ana López", "email": "ana@example.com",
                                 "phone": "+34 600 123 456"})
    tools.invoke("add_contact", {"name": "Bob Stone"})
    cards = list(vobject.readComponents((data_dir / "contacts.vcf").read_text()))
    assert [c.fn.value for c in cards] == ["Ana López", "Bob Stone"]
    assert cards[0].n.value.family == "López"

    def names(q):
        return [c["name"] for c in tools.invoke("find_contact", {"query": q})["contacts"]]

    assert names("ana") == ["Ana López"]
    assert names("lópez ana") == ["Ana López"]
    assert names("example.com") == ["Ana López"]
    assert names("600123456") == ["Ana López"]
    assert names("stone") == ["Bob Stone"]
    assert names("carol") == []
    found = tools.invoke("find_contact", {"query": "Ana"})["contacts"][0]
    assert found["emails"] == ["ana@example.com"] and found["phones"] == ["+34 600 123 456"]


def test_reads_extra_vcard_files(tools, data_dir):
    (data_dir / "contacts").mkdir()
    (data_dir / "contacts" / "export.vcf").write_text(
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Carol King\r\nN:King;Carol;;;\r\n"
        "EMAIL:carol@example.org\r\nEND:VCARD\r\n")
    assert tools.invoke("find_contact", {"query": "carol"})["contacts"][0]["emails"] == [
        "carol@example.org"]


@pytest.mark.parametrize("args, param", [
    ({"name": "X", "email": "not-an-email"}, "email"),
    ({"name": "X", "phone": "call me"}, "phone"),
    ({"name": "   "}, "name"),
])
def test_add_errors(tools, args, param):
    with pytest.raises(ToolArgumentError) as info:
        tools.invoke("add_contact", args)
    assert info.value.parameter == param


def test_duplicate_name_refused(tools):
    tools.invoke("add_contact", {"name": "Ana López"})
    with pytest.raises(ToolArgumentError, match="already exists"):
        tools.invoke("add_contact", {"name": "ana  lópez"})
    with pytest.raises(ToolArgumentError, match="empty"):
        tools.invoke("find_contact", {"query": " "})
