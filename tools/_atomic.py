"""Atomic file writes and per-file locks shared by every local tool.

A write goes to a temporary file in the same directory, is flushed and fsynced,
then `os.replace`d over the target: a reader (or a process that died mid-write)
sees either the old file or the new one, never a torn one. The lock serialises
read-modify-write cycles of tools that the executor runs in parallel threads.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["atomic_write_bytes", "atomic_write_text", "atomic_write_json", "default_mode", "file_lock"]


def atomic_write_bytes(path: Path | str, data: bytes) -> None:
    """Replace `path` with `data` atomically (parent directories are created).

    A replaced file keeps its mode; a new one gets the mode `open()` would give it
    (mkstemp's temporary is 0600, which would make a user's document private)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = _mode_for(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        # The target is untouched; only our temporary file has to go.
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def atomic_write_text(path: Path | str, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: Path | str, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, ensure_ascii=False) + "\n")


def _read_umask() -> int:
    # os.umask can only be read by setting it; done once, at import, before tools run in threads.
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


_UMASK = _read_umask()


def default_mode(is_dir: bool = False) -> int:
    """The mode a plain open()/mkdir() gives (mkstemp/mkdtemp make 0600/0700)."""
    return (0o777 if is_dir else 0o666) & ~_UMASK


def _mode_for(path: Path) -> int:
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        return default_mode()


def _fsync_dir(directory: Path) -> None:
    # Makes the rename itself durable; not possible on every OS (Windows).
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


_locks: dict[str, threading.RLock] = {}
_locks_guard = threading.Lock()


@contextlib.contextmanager
def file_lock(path: Path | str) -> Iterator[None]:
    """Hold the in-process lock for `path` (one lock per resolved path)."""
    key = os.path.realpath(path)
    with _locks_guard:
        lock = _locks.setdefault(key, threading.RLock())
    with lock:
        yield
