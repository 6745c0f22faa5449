"""tools/_atomic.py: a writer that dies between write and replace loses nothing."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading

import pytest

from edgeagent.errors import ToolExecutionError
from edgeagent.tools import _atomic
from edgeagent.tools._atomic import atomic_write_json, atomic_write_text, file_lock


def test_write_replaces_and_leaves_no_temp_files(tmp_path):
    p = tmp_path / "sub" / "f.txt"
    atomic_write_text(p, "one")
    atomic_write_text(p, "two")
    assert p.read_text() == "two"
    assert os.listdir(p.parent) == ["f.txt"]


def test_killed_between_write_and_replace_keeps_old_file(tmp_path, monkeypatch):
    p = tmp_path / "state.json"
    atomic_write_json(p, {"v": 1})
    before = p.read_bytes()

    def killed(src, dst):  # the process "dies" after the data is written and fsynced
        with open(src) as f:
            assert f.read().startswith("{")  # the new data really was written
        raise KeyboardInterrupt

    monkeypatch.setattr(_atomic.os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_json(p, {"v": 2})
    monkeypatch.undo()
    assert p.read_bytes() == before
    assert os.listdir(tmp_path) == ["state.json"]  # the temporary file is cleaned up


def test_tool_write_interrupted_keeps_old_state(tools, data_dir, monkeypatch):
    tools.invoke("create_reminder", {"text": "first", "at": "2030-02-01T10:00"})
    before = (data_dir / "reminders.json").read_bytes()
    monkeypatch.setattr(_atomic.os, "replace", lambda s, d: (_ for _ in ()).throw(OSError("kill")))
    with pytest.raises(ToolExecutionError, match="kill"):
        tools.invoke("create_reminder", {"text": "second", "at": "2030-02-01T11:00"})
    monkeypatch.undo()
    assert (data_dir / "reminders.json").read_bytes() == before
    assert [r["text"] for r in tools.invoke("list_reminders")["reminders"]] == ["first"]


def test_file_lock_serialises_read_modify_write(tmp_path):
    p = tmp_path / "counter.txt"
    atomic_write_text(p, "0")

    def bump():
        for _ in range(20):
            with file_lock(p):
                atomic_write_text(p, str(int(p.read_text()) + 1))

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert p.read_text() == "80"


def test_process_killed_mid_write_keeps_old_file(tmp_path):
    """A real process dies (os._exit, no cleanup) after writing, before replacing."""
    p = tmp_path / "state.json"
    atomic_write_json(p, {"v": 1})
    before = p.read_bytes()
    code = (
        "import os, sys\n"
        "from edgeagent.tools import _atomic\n"
        "_atomic.os.replace = lambda s, d: os._exit(9)\n"
        f"_atomic.atomic_write_json({str(p)!r}, {{'v': 2}})\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], timeout=60)
    assert proc.returncode == 9
    assert p.read_bytes() == before


def test_a_replaced_file_keeps_its_mode_and_a_new_one_gets_the_umask_default(tmp_path):
    kept = tmp_path / "notes.txt"
    kept.write_text("old")
    os.chmod(kept, 0o640)
    atomic_write_text(kept, "new")
    assert kept.read_text() == "new"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o640  # not mkstemp's 0600

    fresh = tmp_path / "fresh.txt"
    atomic_write_text(fresh, "x")
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o666 & ~_atomic._UMASK
