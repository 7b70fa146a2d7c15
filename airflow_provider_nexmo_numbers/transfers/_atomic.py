"""Write a file so that readers see either the old complete file or the new complete file, never a half one.

Local files: a temporary file in the target's own directory (same filesystem), fsync, then `os.replace`,
which is atomic on POSIX and Windows. The writer holds an exclusive `flock` on its temporary file for as long
as it writes; a process killed with SIGKILL cannot remove its file, but the kernel drops its lock. So every
local export first removes the temporary files of the same target that nobody holds a lock on (and that
are more than `STALE_AFTER` seconds old, which covers the instant between creating a file and locking it):
a killed run's inventory data does not linger, and a concurrent export's file is never touched.

Object storage (s3://, gs://): a temporary object next to the target, then a move; object stores publish a
key atomically, so the target key only ever holds a whole export. On any error the temporary file or
object is removed and the target is left untouched. (Objects cannot be locked: a temporary object of a
killed worker stays; an expiry rule on `.*.tmp` keys cleans those.)
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

log = logging.getLogger(__name__)

#: An unlocked temporary file younger than this may be one a concurrent export has just created and not
#: yet locked; it is left for a later run.
STALE_AFTER = 2.0
_TEMP_TAIL = re.compile(r"\.[A-Za-z0-9_]{8}\.tmp")  # what mkstemp adds after the prefix


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
        _lock(fd, blocking=True)  # ours: no cleaner may take it while this process lives
        remove_stale_temps(target, keep=tmp)
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


def remove_stale_temps(target: Path, keep: Path | None = None) -> list[Path]:
    """Remove the temporary files of `target` left by exports that died (no lock held on them); returns
    what was removed. Files of other targets and of live exports are left alone."""
    prefix = f".{target.name}"
    removed = []
    try:
        candidates = [p for p in target.parent.iterdir() if p.name.startswith(prefix) and p != keep]
    except OSError:
        return removed
    for path in candidates:
        if _TEMP_TAIL.fullmatch(path.name[len(prefix) :]) and _remove_if_abandoned(path):
            removed.append(path)
    if removed:
        log.warning(
            "Removed %d temporary file(s) of %s left by an export that did not finish (killed?): %s",
            len(removed),
            target,
            ", ".join(p.name for p in removed),
        )
    return removed


def _remove_if_abandoned(path: Path) -> bool:
    try:
        fd = os.open(path, os.O_RDWR)  # write mode: NFS emulates flock with fcntl locks
    except OSError:  # gone already (another cleaner, or its export finished)
        return False
    try:
        if time.time() - os.fstat(fd).st_mtime < STALE_AFTER or not _lock(fd, blocking=False):
            return False  # just created, or an export holds it: alive
        path.unlink()
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def _lock(fd: int, *, blocking: bool) -> bool:
    """An exclusive flock on `fd` (per open file, released by the kernel when the process dies); True when
    held. Without fcntl (Windows) nothing is locked and nothing is ever judged abandoned."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
    except OSError:
        return False
    return True


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
