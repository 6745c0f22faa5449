"""File tools confined to allowed root folders (default `<data_dir>/files`).

Every path argument is checked the same way: no `..` components, then the path
is resolved (following symlinks) and must lie inside one of the resolved roots.
Checking after resolving is what stops a symlink inside a root from leading
outside it.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
from collections.abc import Iterable
from pathlib import Path, PurePath

from edgeagent.errors import ToolArgumentError
from edgeagent.tool import Tool, tool

from ._atomic import atomic_write_text, file_lock
from ._dates import Clock

__all__ = ["make_tools", "Sandbox", "MAX_READ_BYTES", "MAX_WRITE_BYTES"]

MAX_READ_BYTES = 64 * 1024        # a small model's context holds little more
MAX_WRITE_BYTES = 1024 * 1024
MAX_SEARCH_FILE_BYTES = 1024 * 1024
MAX_LIST_ENTRIES = 200
MAX_SEARCH_FILES = 5000           # files looked at per search: bounds the time it takes


class Sandbox:
    """Maps path arguments to real paths inside the allowed roots, or refuses them."""

    def __init__(self, roots: Iterable[Path]) -> None:
        self.roots = [Path(r).resolve() for r in roots]
        if not self.roots:
            raise ValueError("at least one allowed root is needed")

    def resolve(self, path: str, param: str = "path") -> Path:
        """The real path for `path` (relative paths are taken from the first root)."""
        if not isinstance(path, str) or "\x00" in path:
            raise ToolArgumentError.about(param, "is not a valid path")
        raw = PurePath(path.strip() or ".")
        if ".." in raw.parts:
            raise ToolArgumentError.about(param, f"{path!r} contains '..'; "
                                                 "paths may not leave the allowed folders")
        candidate = Path(raw) if raw.is_absolute() else self.roots[0] / raw
        real = candidate.resolve()  # follows symlinks, also dangling ones
        if not any(real == r or real.is_relative_to(r) for r in self.roots):
            raise ToolArgumentError.about(param, f"{path!r} is outside the allowed folders")
        return real

    def display(self, real: Path) -> str:
        """How a path is shown to the model: relative to its root (first root bare)."""
        for i, root in enumerate(self.roots):
            if real == root or real.is_relative_to(root):
                rel = real.relative_to(root).as_posix()
                return rel if i == 0 else str(real)
        return str(real)

    def is_root(self, real: Path) -> bool:
        return real in self.roots

    def named_like(self, path: str, limit: int = 3) -> list[str]:
        """Files whose names hold every word of `path` ("March invoice" -> invoice-march.txt),
        to name in the error when `path` does not exist: a person (or a model) who named a
        file in words can then use its real name."""
        wanted = {w for w in _WORD.findall(str(path).lower()) if w not in _FILLER_WORDS}
        found: list[str] = []
        if not wanted:
            return found
        for i, (folder, dirs, files) in enumerate(os.walk(self.roots[0])):  # links are not followed
            for name in sorted(files):
                if wanted <= set(_WORD.findall(name.lower())):
                    found.append(self.display(Path(folder) / name))
            if len(found) >= limit or i >= MAX_SEARCH_FILES:
                break
        return found[:limit]

    def missing(self, path: str, param: str, what: str) -> ToolArgumentError:
        """The error for a `path` that is not an existing `what`, naming the files it may mean."""
        near = self.named_like(path)
        hint = f"; files named like it: {', '.join(near)}" if near else ""
        return ToolArgumentError.about(param, f"{path!r} is not an existing {what}{hint}")


_WORD = re.compile(r"[^\W_]+")
_FILLER_WORDS = {"the", "my", "a", "an", "file", "files", "folder", "txt", "md"}


def _is_text(data: bytes) -> bool:
    return b"\x00" not in data[:8192]


def _entry(sb: Sandbox, p: Path) -> dict:
    st = p.lstat()
    kind = "link" if p.is_symlink() else "dir" if p.is_dir() else "file"
    # `p` is the unresolved path (a link is shown, never followed).
    return {"path": sb.display(p), "type": kind, "size": st.st_size if kind == "file" else None,
            "modified": dt.datetime.fromtimestamp(st.st_mtime).isoformat(timespec="seconds")}


def make_tools(data_dir: Path, *, allowed_roots: Iterable[Path] | None = None,
               clock: Clock | None = None) -> list[Tool]:
    """The file tools, confined to `allowed_roots` (default `<data_dir>/files`)."""
    data_dir = Path(data_dir)
    if allowed_roots is None:
        default = data_dir / "files"
        default.mkdir(parents=True, exist_ok=True)
        allowed_roots = [default]
    sb = Sandbox(allowed_roots)

    @tool
    def list_files(path: str = ".", recursive: bool = False) -> dict:
        """List the files and folders in a folder of the user's files.

        Args:
            path: Folder to list, relative to the user's files folder ("." for the top).
            recursive: Also list everything inside sub-folders.
        """
        real = sb.resolve(path)
        if not real.is_dir():
            raise ToolArgumentError.about("path", f"{path!r} is not an existing folder")
        entries: list[dict] = []
        truncated = False
        if recursive:
            walk = os.walk(real, followlinks=False)  # never follow links while walking
            candidates = (Path(d) / n for d, dirs, files in walk
                          for n in sorted(dirs) + sorted(files))
        else:
            candidates = iter(sorted(real.iterdir()))
        for p in candidates:
            if len(entries) >= MAX_LIST_ENTRIES:
                truncated = True
                break
            entries.append(_entry(sb, p))
        return {"path": sb.display(real) or ".", "entries": entries, "truncated": truncated}

    @tool
    def read_file(path: str) -> dict:
        """Read the contents of a text file in the user's files (at most 64 KiB is returned).

        Args:
            path: File to read, relative to the user's files folder.
        """
        real = sb.resolve(path)
        if not real.is_file():
            raise sb.missing(path, "path", "file")
        size = real.stat().st_size
        with open(real, "rb") as f:
            data = f.read(MAX_READ_BYTES)
        if not _is_text(data):
            raise ToolArgumentError.about("path", f"{path!r} is a binary file, not text")
        return {"path": sb.display(real), "content": data.decode("utf-8", errors="replace"),
                "size": size, "truncated": size > MAX_READ_BYTES}

    @tool
    def search_files(query: str, path: str = ".", max_results: int = 20) -> dict:
        """Find files whose name or text contains the query (case-insensitive).

        Args:
            query: Text to look for in file names and file contents.
            path: Folder to search in, relative to the user's files folder.
            max_results: Maximum number of matches to return.
        """
        needle = query.strip().lower()
        if not needle:
            raise ToolArgumentError.about("query", "must not be empty")
        real = sb.resolve(path)
        if not real.is_dir():
            raise ToolArgumentError.about("path", f"{path!r} is not an existing folder")
        limit = max(1, min(max_results, 100))
        matches: list[dict] = []
        seen = 0
        for d, dirs, files in os.walk(real, followlinks=False):
            dirs.sort()
            for name in sorted(files):
                seen += 1
                if len(matches) >= limit or seen > MAX_SEARCH_FILES:
                    return {"query": query, "matches": matches, "truncated": True}
                p = Path(d) / name
                if p.is_symlink():
                    continue  # a link may point anywhere; only real files are searched
                shown = sb.display(p)
                if needle in name.lower():
                    matches.append({"path": shown, "match": "name"})
                    continue
                try:
                    if p.stat().st_size > MAX_SEARCH_FILE_BYTES:
                        continue
                    data = p.read_bytes()
                except OSError:
                    continue
                if not _is_text(data):
                    continue
                for lineno, line in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
                    if needle in line.lower():
                        matches.append({"path": shown, "match": "content", "line": lineno,
                                        "text": line.strip()[:200]})
                        break
        return {"query": query, "matches": matches, "truncated": False}

    @tool(side_effect=True)
    def write_file(path: str, content: str, overwrite: bool = False, append: bool = False) -> dict:
        """Write text to a file in the user's files (at the path the user names), creating folders as needed. For a note, use create_note.

        Args:
            path: File to write, relative to the user's files folder.
            content: The text to write.
            overwrite: Replace the file if it already exists.
            append: Add the text to the end of an existing file instead of replacing it.
        """
        real = sb.resolve(path)
        if len(content.encode("utf-8")) > MAX_WRITE_BYTES:
            raise ToolArgumentError.about("content", f"is larger than {MAX_WRITE_BYTES} bytes")
        if real.is_dir() or sb.is_root(real):
            raise ToolArgumentError.about("path", f"{path!r} is a folder, not a file")
        with file_lock(real):
            exists = real.exists()
            if exists and not (overwrite or append):
                raise ToolArgumentError.about("path", f"{path!r} already exists; set overwrite=true to replace "
                                                      "it or append=true to add to it")
            if append and exists:
                old = real.read_text(encoding="utf-8", errors="replace")
                content = old + content
            atomic_write_text(real, content)
        return {"path": sb.display(real), "bytes": len(content.encode("utf-8")),
                "created": not exists}

    @tool(side_effect=True)
    def move_file(source: str, destination: str, overwrite: bool = False) -> dict:
        """Move or rename a file or folder within the user's files.

        Args:
            source: File or folder to move, relative to the user's files folder.
            destination: New path; if it is an existing folder the source is moved into it.
            overwrite: Replace an existing file at the destination.
        """
        src = sb.resolve(source, "source")
        if not src.exists():
            raise sb.missing(source, "source", "file or folder")
        if sb.is_root(src):
            raise ToolArgumentError.about("source", "the top folder itself cannot be moved")
        dst = sb.resolve(destination, "destination")
        if dst.is_dir():
            dst = sb.resolve(str(dst / src.name), "destination")
        if dst == src or dst.is_relative_to(src):
            raise ToolArgumentError.about("destination", f"{destination!r} is the source or inside it")
        if dst.exists() and not overwrite:
            raise ToolArgumentError.about("destination", f"{destination!r} already exists; "
                                                         "set overwrite=true to replace it")
        if dst.is_dir():
            raise ToolArgumentError.about("destination", f"{destination!r} is an existing folder")
        dst.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(src, dst)  # atomic on one file system
        except OSError:
            shutil.move(src, dst)  # across file systems (roots on different disks)
        return {"source": sb.display(src), "destination": sb.display(dst)}

    return [list_files, read_file, search_files, write_file, move_file]
