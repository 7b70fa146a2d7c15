"""Fixtures of the ledger tests: the two ledger back-ends and racing task tries in real processes.

``backend`` runs a test twice: with the default SQLite file under AIRFLOW_HOME (no connection at all) and with
PostgreSQL on 127.0.0.1:5432 (a connection ``nexmo_numbers_ledger`` with a table prefix of its own, dropped
afterwards; skipped with a reason when the server is absent).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.airflow import DEFAULT_CONN_ID, conn_env_var, nexmo_connection_json

LEDGER_CONN_ID = "nexmo_numbers_ledger"
REPO = Path(__file__).resolve().parents[2]
PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "dbname": "test"}


def postgres_or_skip() -> Any:
    try:
        import psycopg2

        return psycopg2.connect(connect_timeout=3, **PG)
    except Exception as err:
        pytest.skip(f"PostgreSQL is not reachable on {PG['host']}:{PG['port']} ({type(err).__name__})")


def drop_ledger_tables(prefix: str) -> None:
    conn = postgres_or_skip()
    with conn, conn.cursor() as cur:
        for table in ("meta", "claims", "purchases", "numbers", "releases", "leases"):
            cur.execute(f"DROP TABLE IF EXISTS {prefix}{table}")
    conn.close()


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """Environment variables that select the ledger back-end (also set in this process)."""
    if request.param == "sqlite":
        monkeypatch.delenv(conn_env_var(LEDGER_CONN_ID), raising=False)
        yield {}
        return
    postgres_or_skip().close()
    prefix = f"t{uuid.uuid4().hex[:10]}_"
    conn = json.dumps(
        {
            "conn_type": "postgres",
            "host": PG["host"],
            "port": PG["port"],
            "login": PG["user"],
            "schema": PG["dbname"],
            "extra": {"table_prefix": prefix},
        }
    )
    monkeypatch.setenv(conn_env_var(LEDGER_CONN_ID), conn)
    try:
        yield {conn_env_var(LEDGER_CONN_ID): conn}
    finally:
        drop_ledger_tables(prefix)


class Racers:
    """Start task tries as processes (``python -m tests.ledger.worker``), release them at once, collect."""

    def __init__(self, sandbox: Any, env: dict[str, str], tmp_path: Path) -> None:
        self.env = {**os.environ, **env, conn_env_var(DEFAULT_CONN_ID): nexmo_connection_json(sandbox)}
        self.tmp = tmp_path

    def start(self, specs: list[dict[str, Any]]) -> tuple[list[subprocess.Popen[str]], Path]:
        go = self.tmp / f"go-{uuid.uuid4().hex[:6]}"
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "tests.ledger.worker", json.dumps({**spec, "go_file": str(go)})],
                cwd=REPO,
                env=self.env,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
            for spec in specs
        ]
        return procs, go

    @staticmethod
    def collect(procs: list[subprocess.Popen[str]], timeout: float = 240) -> list[dict[str, Any]]:
        results = []
        for proc in procs:
            out, _ = proc.communicate(timeout=timeout)
            lines = [line for line in out.splitlines() if line.startswith(("RESULT ", "ERROR "))]
            assert lines, f"worker exited {proc.returncode} without a result"
            kind, _, payload = lines[-1].partition(" ")
            if kind == "RESULT":
                results.append({"ok": True, "result": json.loads(payload)})
            else:
                results.append({"ok": False, **json.loads(payload)})
        return results

    def run(self, specs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        procs, go = self.start(specs)
        go.touch()
        return self.collect(procs)

    def run_until_paused(self, spec: dict[str, Any], at: str) -> None:
        """Run one try until it reaches ``at`` (see worker.py), then SIGKILL it."""
        pause = self.tmp / f"pause-{uuid.uuid4().hex[:6]}"
        (proc,), go = self.start([{**spec, "pause_at": at, "pause_file": str(pause)}])
        go.touch()
        deadline = time.monotonic() + 120
        while not pause.exists():
            assert proc.poll() is None, "the try ended before reaching the kill point"
            assert time.monotonic() < deadline, "the try never reached the kill point"
            time.sleep(0.02)
        proc.kill()
        proc.wait(timeout=30)


@pytest.fixture
def racers(sandbox: Any, backend: dict[str, str], tmp_path: Path) -> Racers:
    return Racers(sandbox, backend, tmp_path)
