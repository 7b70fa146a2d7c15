"""Fixtures for the export tests: a seeded sandbox inventory, real SQLite and PostgreSQL warehouses, and a way
to make the sandbox fail the listing halfway through an export.

Everything is real: the operators page over HTTP through the hook and client to the sandbox, and write through
Airflow's own sqlite/postgres hooks, found from `AIRFLOW_CONN_*` environment variables.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.airflow import set_nexmo_connection

#: The account size the issue asks exports to handle (100 pages of 100).
INVENTORY_SIZE = 10_000
LISTING = "GET /account/numbers"
RUN_ID = "scheduled__2024-05-01T00:00:00+00:00"
DS = "2024-05-01"
#: Wire names of an owned number's fields -> the export's column names.
WIRE_TO_COLUMN = {
    "country": "country",
    "msisdn": "msisdn",
    "type": "type",
    "moHttpUrl": "mo_http_url",
    "moSmppSysType": "mo_smpp_sys_type",
    "voiceCallbackType": "voice_callback_type",
    "voiceCallbackValue": "voice_callback_value",
    "voiceStatusCallback": "voice_status_callback",
    "messagesCallbackType": "messages_callback_type",
    "messagesCallbackValue": "messages_callback_value",
    "app_id": "app_id",
}
PG_DSN = "host=127.0.0.1 port=5432 dbname=test user=postgres connect_timeout=3"


def run_context(run_id: str = RUN_ID, ds: str = DS) -> dict[str, Any]:
    """The part of a task context the exports read (what a scheduled run provides)."""
    logical_date = dt.datetime.fromisoformat(ds).replace(tzinfo=dt.timezone.utc)
    return {"run_id": run_id, "ds": ds, "logical_date": logical_date}


def expected_rows(owned: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The sandbox's own view of the inventory, as export columns (features as a sorted list), by msisdn."""
    rows = {}
    for wire in owned:
        row = {column: wire.get(name) or None for name, column in WIRE_TO_COLUMN.items()}
        row["features"] = sorted(wire.get("features") or [])
        rows[row["msisdn"]] = row
    return rows


def comparable(row: dict[str, Any]) -> dict[str, Any]:
    """An exported row reduced to the inventory's fields, in the same shapes as `expected_rows`."""
    features = row["features"]
    if isinstance(features, str):
        features = features.split(",") if features else []
    out = {column: (row[column] or None) for column in WIRE_TO_COLUMN.values()}
    out["features"] = sorted(features)
    return out


def check_feature_flags(row: dict[str, Any]) -> None:
    features = row["features"].split(",") if isinstance(row["features"], str) else row["features"]
    for name in ("sms", "voice", "mms"):
        assert _as_bool(row[f"has_{name}"]) == (name.upper() in features), row


def _as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value == "true"
    return bool(value)


@pytest.fixture
def inventory(sandbox, nexmo_conn) -> dict[str, dict[str, Any]]:
    """10,000 owned numbers in two countries, configured and unconfigured; returns what the sandbox holds."""
    sandbox.admin.seed_owned(INVENTORY_SIZE * 6 // 10, country="GB", configured=True)
    sandbox.admin.seed_owned(INVENTORY_SIZE * 4 // 10, country="NL", configured=False)
    owned = sandbox.admin.owned()
    assert len(owned) == INVENTORY_SIZE
    return expected_rows(owned)


@pytest.fixture
def small_inventory(sandbox, nexmo_conn) -> dict[str, dict[str, Any]]:
    """2,000 numbers (20 pages): enough pages to fail halfway, quick to export twice."""
    sandbox.admin.seed_owned(2_000, country="DE", configured=True)
    return expected_rows(sandbox.admin.owned())


@pytest.fixture
def flaky_nexmo_conn(sandbox, monkeypatch) -> str:
    """A Nexmo connection that gives up after one retry, so an injected outage fails the export quickly."""
    return set_nexmo_connection(monkeypatch, "nexmo_flaky", sandbox, max_retries=1)


@contextlib.contextmanager
def listing_fails_after(sandbox, pages: int, status: int = 503) -> Iterator[None]:
    """Once the sandbox has served `pages` listing pages, every further listing request answers `status`.

    The sandbox's fault queue applies to the *next* request, so a watcher thread arms it when the stats show
    enough pages served; a little latency per request makes sure it is armed well before the export ends.
    """
    sandbox.admin.set_faults(latency_ms=15)
    done = threading.Event()

    def arm() -> None:
        while not done.is_set():
            served = sandbox.admin.stats()["requests"].get(LISTING, {}).get("200", 0)
            if served >= pages:
                sandbox.admin.queue_fault("status", operation=LISTING, count=1000, status=status)
                return
            time.sleep(0.002)

    watcher = threading.Thread(target=arm, daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
        watcher.join(10)
        sandbox.admin.set_faults()
        sandbox.admin.clear_fault_queue()


def listing_pages_served(sandbox) -> int:
    return sandbox.admin.stats()["requests"].get(LISTING, {}).get("200", 0)


@dataclass
class Warehouse:
    """A real database reachable through an Airflow connection, plus direct access for the assertions."""

    kind: str
    conn_id: str
    table: str
    connect: Callable[[], Any]
    placeholder: str
    created: list[str] = field(default_factory=list)

    def query(self, sql: str, *params: Any) -> list[dict[str, Any]]:
        conn = self.connect()
        try:
            cur = conn.cursor()
            cur.execute(sql.replace("?", self.placeholder), params)
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
        finally:
            conn.close()

    def count(self, snapshot_id: str | None = None, table: str | None = None) -> int:
        table = table or self.table
        if snapshot_id is None:
            return self.query(f"SELECT COUNT(*) AS n FROM {table}")[0]["n"]
        return self.query(f"SELECT COUNT(*) AS n FROM {table} WHERE snapshot_id = ?", snapshot_id)[0]["n"]

    def rows(self, snapshot_id: str, table: str | None = None) -> list[dict[str, Any]]:
        sql = f"SELECT * FROM {table or self.table} WHERE snapshot_id = ? ORDER BY msisdn"
        return self.query(sql, snapshot_id)

    def table_exists(self, table: str | None = None) -> bool:
        try:
            self.query(f"SELECT 1 AS one FROM {table or self.table} WHERE 1 = 0")
        except Exception:
            return False
        return True


def _unique_table() -> str:
    return f"nexmo_numbers_{uuid.uuid4().hex[:10]}"


@pytest.fixture
def sqlite_warehouse(tmp_path: Path, monkeypatch) -> Warehouse:
    """A file SQLite database behind an Airflow `sqlite` connection (the embedded default)."""
    pytest.importorskip("airflow.providers.sqlite.hooks.sqlite", reason="needs the sqlite provider")
    db = tmp_path / "warehouse.db"
    monkeypatch.setenv("AIRFLOW_CONN_EXPORT_SQLITE", json.dumps({"conn_type": "sqlite", "host": str(db)}))
    return Warehouse("sqlite", "export_sqlite", _unique_table(), lambda: sqlite3.connect(db), "?")


@pytest.fixture
def postgres_warehouse(monkeypatch) -> Iterator[Warehouse]:
    """The machine's PostgreSQL (127.0.0.1:5432, database `test`, trust auth); unique tables dropped after."""
    pytest.importorskip("airflow.providers.postgres.hooks.postgres", reason="needs the postgres provider")
    psycopg = pytest.importorskip("psycopg")
    try:
        psycopg.connect(PG_DSN).close()
    except psycopg.OperationalError as err:
        pytest.skip(f"PostgreSQL on 127.0.0.1:5432 (database test, user postgres) is not reachable: {err}")
    conn = {"conn_type": "postgres", "host": "127.0.0.1", "port": 5432, "login": "postgres", "schema": "test"}
    monkeypatch.setenv("AIRFLOW_CONN_EXPORT_POSTGRES", json.dumps(conn))
    table = _unique_table()
    warehouse = Warehouse("postgres", "export_postgres", table, lambda: psycopg.connect(PG_DSN), "%s")
    yield warehouse
    with psycopg.connect(PG_DSN, autocommit=True) as db:
        for table in {warehouse.table, *warehouse.created}:
            db.execute(f"DROP TABLE IF EXISTS {table}")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def warehouse(request) -> Warehouse:
    return request.getfixturevalue(f"{request.param}_warehouse")
