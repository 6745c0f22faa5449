"""`edgeagent chat` tried as a person would: a real terminal (tmux), keys typed, the screen read,
and the data directory checked afterwards."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


class Terminal:
    def __init__(self, name: str, command: str):
        self.name = name
        subprocess.run(["tmux", "new-session", "-d", "-s", name, "-x", "220", "-y", "60", command], check=True)

    def screen(self) -> str:
        r = subprocess.run(["tmux", "capture-pane", "-p", "-J", "-S", "-2000", "-t", self.name],
                           capture_output=True, text=True)
        return r.stdout

    def type(self, text: str) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.name, "-l", text], check=True)
        subprocess.run(["tmux", "send-keys", "-t", self.name, "Enter"], check=True)

    def key(self, key: str) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.name, key], check=True)

    def wait(self, predicate, timeout: float, what: str) -> str:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            screen = self.screen()
            if predicate(screen):
                return screen
            time.sleep(0.5)
        raise AssertionError(f"timed out waiting for {what}; screen:\n{self.screen()}")

    def close(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.name], capture_output=True)


def chat_command(data_dir: Path, log: Path) -> str:
    cmd = [sys.executable, "-m", "edgeagent.cli", "chat", "--data-dir", str(data_dir), "--strategy", "plan"]
    # stderr to a file: the screen shows what a person sees; the log explains a failure.
    return " ".join(shlex.quote(c) for c in cmd) + f" 2>{shlex.quote(str(log))}; sleep 30"


def test_a_turn_with_confirmation_then_ctrl_d(tmp_path, qwen_path):
    data = tmp_path / "data"
    term = Terminal(f"ea-chat-{os.getpid()}", chat_command(data, tmp_path / "stderr.log"))
    try:
        term.wait(lambda s: "you>" in s, 300, "the prompt")
        term.type("Set a timer for 7 minutes for the tea")
        answered = 0
        # The plan and each call are shown; every side-effecting call is put to the person.
        while True:
            screen = term.wait(lambda s: s.count("? run ") > answered or s.count("you>") >= 2, 1200,
                               "a confirmation question or the next prompt")
            if screen.count("you>") >= 2:
                break
            answered += 1
            term.type("y")
        assert answered >= 1, screen
        assert "· plan 1:" in screen and "→ " in screen and "← " in screen
        assert "assistant> " in screen
        timers = json.loads((data / "reminders.json").read_text())["timers"]
        assert any(t["minutes"] == 7 for t in timers), timers
        term.key("C-d")
        term.wait(lambda s: "bye" in s, 60, "the goodbye after Ctrl-D")
    finally:
        term.close()


def test_declining_a_call_leaves_no_trace_and_quit_ends(tmp_path, qwen_path):
    data = tmp_path / "data"
    term = Terminal(f"ea-chat-n-{os.getpid()}", chat_command(data, tmp_path / "stderr.log"))
    try:
        term.wait(lambda s: "you>" in s, 300, "the prompt")
        term.type("Create a note titled Secret plan with the text launch at dawn")
        answered = 0
        while True:
            screen = term.wait(lambda s: s.count("? run ") > answered or s.count("you>") >= 2, 1200,
                               "a confirmation question or the next prompt")
            if screen.count("you>") >= 2:
                break
            answered += 1
            term.type("n")
        assert answered >= 1 and "declined" in screen, screen
        assert not list((data / "outbox").glob("*")) if (data / "outbox").exists() else True
        db = data / "notes.sqlite3"
        if db.exists():
            import sqlite3
            assert sqlite3.connect(db).execute("SELECT COUNT(*) FROM notes").fetchone()[0] == 0
        term.type("/quit")
        term.wait(lambda s: "bye" in s, 60, "the goodbye after /quit")
    finally:
        term.close()
