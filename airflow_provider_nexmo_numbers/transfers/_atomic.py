"""Write a file so that readers see either the old complete file or the new complete file, never a half one.

Local files: a temporary file in the target's own directory (same filesystem), fsync, then `os.replace`,
which is atomic on POSIX and Windows. Object storage (s3://, gs://): a temporary object next to the target,
then a move; object stores publish a key atomically, so the target key only ever holds a whole export. On any
error the temporary file or object is removed and the target is left untouched.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

log = logging.getLogger(__name__)


def is_local(target: Any) -> bool:
    """Plain paths and `file://` object-storage paths are written with the local (rename) strategy."""
    return not hasattr(target, "fs") or getattr(target, "protocol", "") in ("", "file", "local")


def local_path(target: Any) -> Path:
    return Path(target.path) if hasattr(target, "fs") else Path(target)


@contextlib.contextmanager
def atomic_write(target: Any) -> Iterator[IO[bytes]]:
    """Yield a binary file handle; the target appears (or is replaced) only if the block completes."""
    if is_local(target):
        with _atomic_local(local_path(target)) as fh:
            yield fh
    else:
        with _atomic_object(target) as fh:
            yield fh


@contextlib.contextmanager
def _atomic_local(target: Path) -> Iterator[IO[bytes]]:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        # mkstemp creates 0600; give the export the permissions a normal new file would get.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(target.parent)


def _fsync_dir(directory: Path) -> None:
    """Persist the rename itself (best effort: not every platform can open a directory)."""
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


@contextlib.contextmanager
def _atomic_object(target: Any) -> Iterator[IO[bytes]]:
    tmp = target.parent / f".{target.name}.{uuid.uuid4().hex}.tmp"
    try:
        with tmp.open("wb") as fh:
            yield fh
        tmp.move(target)
    except BaseException:
        try:
            if tmp.exists():
                tmp.unlink()
        except Exception:  # cleanup must not hide the export's own error
            log.warning("Could not remove the temporary object %s", tmp, exc_info=True)
        raise
