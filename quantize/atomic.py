"""Atomic outputs: write into a temporary sibling, rename only when complete.

An interrupted run (exception, KeyboardInterrupt, full disk) removes the temporary
and leaves no half-written model behind. The temporary lives beside the target so the
final rename stays on one filesystem (atomic).
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from ..errors import DiskFullError, QuantizeError, QuantizeInputError
from ..tools._atomic import default_mode

__all__ = ["atomic_file", "atomic_dir", "scratch_dir"]


def _check_target(target: Path) -> None:
    if target.exists():
        raise QuantizeInputError(f"output already exists: {target} (remove it or choose another --out)")
    if not target.parent.is_dir():
        raise QuantizeInputError(f"output folder does not exist: {target.parent}")


def _disk_full(e: BaseException, target: Path) -> DiskFullError:
    return DiskFullError(f"no space left on the device while writing {target}; nothing was written")


@contextmanager
def atomic_file(target: Path) -> Iterator[Path]:
    """Yields a temporary path beside `target`; renamed onto `target` on success."""
    target = Path(target)
    _check_target(target)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    os.chmod(tmp, default_mode())
    try:
        yield tmp
        if not tmp.exists() or tmp.stat().st_size == 0:
            raise QuantizeError(f"the step that writes {target} produced no data")
        os.replace(tmp, target)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        if e.errno == errno.ENOSPC:
            raise _disk_full(e, target) from None
        raise
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextmanager
def atomic_dir(target: Path) -> Iterator[Path]:
    """Yields a temporary directory beside `target`; renamed onto `target` on success."""
    target = Path(target)
    _check_target(target)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent))
    os.chmod(tmp, default_mode(is_dir=True))
    try:
        yield tmp
        os.replace(tmp, target)
    except OSError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        if e.errno == errno.ENOSPC:
            raise _disk_full(e, target) from None
        raise
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


@contextmanager
def scratch_dir(near: Path) -> Iterator[Path]:
    """A working directory for intermediate files (merged HF model, f16 GGUF), removed
    at the end whatever happens. Beside the output, so it is on the same disk."""
    tmp = Path(tempfile.mkdtemp(prefix=".edgeagent-quantize.", dir=near))
    try:
        yield tmp
    except OSError as e:
        if e.errno == errno.ENOSPC:
            raise DiskFullError(f"no space left on the device in {near} (intermediate files); nothing was written") \
                from None
        raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
