"""A SQLite ledger file that several processes of one machine can share without set-up.

- WAL journal: readers never block the writer and the writer never blocks readers.
- ``busy_timeout``: a process that finds the file locked waits (bounded) instead of failing at once.
- autocommit mode (``isolation_level=None``) so that `Ledger` can open every transaction with
  ``BEGIN IMMEDIATE``: the write lock is taken before the first read, so two processes can never both read
  "this number is free" and both claim it.

SQLite over a network file system is not safe (its locks do not hold there): a cluster uses PostgreSQL.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

DEFAULT_FILE_NAME = "nexmo_numbers_ledger.db"
BUSY_TIMEOUT_MS = 30_000


def default_path() -> Path:
    """``$AIRFLOW_HOME/nexmo_numbers_ledger.db`` (``~/airflow`` when AIRFLOW_HOME is unset, as Airflow)."""
    home = os.environ.get("AIRFLOW_HOME") or os.path.join("~", "airflow")
    return Path(home).expanduser() / DEFAULT_FILE_NAME


def connector(
    path: str | os.PathLike[str], *, busy_timeout_ms: int = BUSY_TIMEOUT_MS
) -> Callable[[], sqlite3.Connection]:
    """A zero-argument factory of connections to the ledger file at ``path`` (created with its folder)."""
    target = Path(path).expanduser()

    def connect() -> sqlite3.Connection:
        target.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(target), timeout=busy_timeout_ms / 1000, isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        return conn

    return connect
