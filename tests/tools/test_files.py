"""tools/files.py: confined to the allowed roots; traversal and symlink escapes refused."""

from __future__ import annotations

import os

import pytest

from edgeagent.errors import ToolArgumentError
from edgeagent.tools import files, local_tools


@pytest.fixture
def root(data_dir):
    return data_dir / "files"


def test_write_read_list_search_move(tools, root):
    assert tools.invoke("write_file", {"path": "docs/plan.txt", "content": "Buy milk\nCall Ana"}
                        ) == {"path": "docs/plan.txt", "bytes": 17, "created": True}
    assert (root / "docs" / "plan.txt").read_text() == "Buy milk\nCall Ana"
    assert tools.invoke("read_file", {"path": "docs/plan.txt"})["content"] == "Buy milk\nCall Ana"

    listing = tools.invoke("list_files", {"path": "."})
    assert [(e["path"], e["type"]) for e in listing["entries"]] == [("docs", "dir")]
    listing = tools.invoke("list_files", {"recursive": True})
    assert ("docs/plan.txt", "file", 17) in [(e["path"], e["type"], e["size"])
                                             for e in listing["entries"]]

    found = tools.invoke("search_files", {"query": "ana"})["matches"]
    assert found == [{"path": "docs/plan.txt", "match": "content", "line": 2, "text": "Call Ana"}]
    assert tools.invoke("search_files", {"query": "PLAN"})["matches"][0]["match"] == "name"

    tools.invoke("move_file", {"source": "docs/plan.txt", "destination": "archive/old.txt"})
    assert (root / "archive" / "old.txt").exists() and not (root / "docs" / "plan.txt").exists()
    tools.invoke("move_file", {"source": "archive/old.txt", "destination": "docs"})
    assert (root / "docs" / "old.txt").exists()


def test_write_refuses_to_clobber_unless_asked(tools, root):
    tools.invoke("write_file", {"path": "a.txt", "content": "one"})
    with pytest.raises(ToolArgumentError, match="already exists.*overwrite=true"):
        tools.invoke("write_file", {"path": "a.txt", "content": "two"})
    tools.invoke("write_file", {"path": "a.txt", "content": "+", "append": True})
    assert (root / "a.txt").read_text() == "one+"
    tools.invoke("write_file", {"path": "a.txt", "content": "two", "overwrite": True})
    assert (root / "a.txt").read_text() == "two"
    tools.invoke("write_file", {"path": "b.txt", "content": "b"})
    with pytest.raises(ToolArgumentError, match="'destination'.*already exists"):
        tools.invoke("move_file", {"source": "a.txt", "destination": "b.txt"})


@pytest.mark.parametrize("name, args, param", [
    ("read_file", {"path": "../notes.sqlite3"}, "path"),
    ("read_file", {"path": "docs/../../secret.txt"}, "path"),
    ("read_file", {"path": "/etc/passwd"}, "path"),
    ("write_file", {"path": "../evil.txt", "content": "x"}, "path"),
    ("list_files", {"path": ".."}, "path"),
    ("move_file", {"source": "a.txt", "destination": "../a.txt"}, "destination"),
    ("move_file", {"source": "/etc/hostname", "destination": "h"}, "source"),
    ("search_files", {"query": "x", "path": "/"}, "path"),
])
def test_traversal_and_outside_paths_refused(tools, root, data_dir, name, args, param):
    (root / "a.txt").write_text("a")
    (data_dir / "secret.txt").write_text("secret")
    with pytest.raises(ToolArgumentError) as info:
        tools.invoke(name, args)
    assert info.value.parameter == param
    assert not (data_dir / "evil.txt").exists() and not (data_dir / "a.txt").exists()


def test_symlink_escapes_refused(tools, root, data_dir, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    os.symlink(outside, root / "link_dir")
    os.symlink(outside / "secret.txt", root / "link_file")
    os.symlink(outside / "new.txt", root / "dangling")  # would create a file outside
    for args in ({"path": "link_dir/secret.txt"}, {"path": "link_file"}):
        with pytest.raises(ToolArgumentError, match="outside the allowed folders"):
            tools.invoke("read_file", args)
    with pytest.raises(ToolArgumentError, match="outside"):
        tools.invoke("write_file", {"path": "dangling", "content": "x"})
    with pytest.raises(ToolArgumentError, match="outside"):
        tools.invoke("write_file", {"path": "link_dir/new.txt", "content": "x"})
    assert sorted(os.listdir(outside)) == ["secret.txt"]
    # listing shows the links without following them; search skips them
    listing = tools.invoke("list_files", {"recursive": True})["entries"]
    kinds = {e["path"]: e["type"] for e in listing}
    assert kinds == {"dangling": "link", "link_dir": "link", "link_file": "link"}
    assert tools.invoke("search_files", {"query": "secret"})["matches"] == []


def test_symlink_inside_root_is_fine(tools, root):
    (root / "real.txt").write_text("inside")
    os.symlink(root / "real.txt", root / "alias.txt")
    assert tools.invoke("read_file", {"path": "alias.txt"})["content"] == "inside"


def test_read_limits_and_binary(tools, root):
    (root / "big.txt").write_text("x" * (files.MAX_READ_BYTES + 10))
    out = tools.invoke("read_file", {"path": "big.txt"})
    assert out["truncated"] and len(out["content"]) == files.MAX_READ_BYTES
    (root / "blob.bin").write_bytes(b"\x00\x01\x02")
    with pytest.raises(ToolArgumentError, match="binary"):
        tools.invoke("read_file", {"path": "blob.bin"})
    with pytest.raises(ToolArgumentError, match="not an existing file"):
        tools.invoke("read_file", {"path": "missing.txt"})


def test_a_missing_file_named_in_words_gets_the_files_it_may_mean(tools, root):
    (root / "invoice-march.txt").write_text("Total 450")
    (root / "old").mkdir()
    (root / "old" / "march-invoice-copy.txt").write_text("Total 450")
    (root / "invoice-april.txt").write_text("Total 300")
    with pytest.raises(ToolArgumentError) as info:
        tools.invoke("move_file", {"source": "March invoice", "destination": "archive"})
    assert info.value.parameter == "source"
    assert "invoice-march.txt" in str(info.value) and "old/march-invoice-copy.txt" in str(info.value)
    assert "april" not in str(info.value)
    with pytest.raises(ToolArgumentError) as info:
        tools.invoke("read_file", {"path": "the receipt"})
    assert "named like it" not in str(info.value)  # nothing holds the word: no hint


def test_explicit_allowed_roots(tmp_path, data_dir):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (b / "x.txt").write_text("bee")
    reg = local_tools(data_dir, allowed_roots=[a, b], domains=["files"])
    assert reg.names() == ["list_files", "read_file", "search_files", "write_file", "move_file"]
    assert reg.invoke("read_file", {"path": str(b / "x.txt")})["content"] == "bee"
    reg.invoke("move_file", {"source": str(b / "x.txt"), "destination": "y.txt"})
    assert (a / "y.txt").read_text() == "bee"
    with pytest.raises(ToolArgumentError):
        reg.invoke("read_file", {"path": str(data_dir)})
    assert not (data_dir / "files").exists()  # no default root when roots are given


def test_side_effect_flags(tools):
    flags = {t.name: t.side_effect for t in tools if t.name in
             ("list_files", "read_file", "search_files", "write_file", "move_file")}
    assert flags == {"list_files": False, "read_file": False, "search_files": False,
                     "write_file": True, "move_file": True}
