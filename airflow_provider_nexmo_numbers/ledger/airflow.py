"""The ledger as Airflow sees it: which database (an Airflow connection or the default SQLite file), whether
the executor allows the default, and who the owner of a claim is.

Resolution (`open_ledger`):

1. The connection ``ledger_conn_id`` (default ``nexmo_numbers_ledger``) exists: its database is the ledger.
   ``postgres`` connections go through the PostgreSQL provider's hook (its driver, its connection options);
   ``sqlite`` connections name a file in ``host`` and get the same multi-process settings as the default.
   Extra ``table_prefix`` (default ``nexmo_ledger_``) lets one database hold several ledgers.
2. It does not exist and the executor runs every task on this machine (Local, Sequential, Debug): the
   SQLite file ``$AIRFLOW_HOME/nexmo_numbers_ledger.db``.
3. It does not exist and the executor is distributed (Celery, Kubernetes, anything else): `LedgerConfigError`
   saying what to configure. A per-worker SQLite file would let two workers buy the same number.

Only money-moving tasks call this; read-only tasks never touch the ledger. Nothing secret is logged: the
description names the conn id, the database kind, host and database name, never a password or URI.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from airflow_provider_nexmo_numbers.ledger.core import DEFAULT_PREFIX, Ledger, LedgerError

__all__ = [
    "DEFAULT_LEDGER_CONN_ID",
    "LedgerConfigError",
    "open_ledger",
    "owner_of",
    "read_facts",
    "uses_local_executor",
]

DEFAULT_LEDGER_CONN_ID = "nexmo_numbers_ledger"
LOCAL_EXECUTORS = ("LocalExecutor", "SequentialExecutor", "DebugExecutor")

log = logging.getLogger(__name__)


class LedgerConfigError(LedgerError):
    """The ledger is not configured in a way that is safe for this deployment."""


def _executors() -> list[str]:
    from airflow.providers.common.compat.sdk import conf

    raw = conf.get("core", "executor", fallback="LocalExecutor") or "LocalExecutor"
    # "[core] executor" may list several executors, each possibly "alias:module.path.Class".
    return [part.strip().rsplit(".", 1)[-1].rsplit(":", 1)[-1] for part in raw.split(",") if part.strip()]


def uses_local_executor() -> bool:
    """True when every configured executor runs tasks on this machine."""
    return all(name in LOCAL_EXECUTORS for name in _executors())


def _connection(conn_id: str) -> Any | None:
    from airflow.providers.common.compat.sdk import BaseHook

    try:
        return BaseHook.get_connection(conn_id)
    except Exception as err:  # AirflowNotFoundException lives in different modules across versions
        if type(err).__name__ == "AirflowNotFoundException":
            return None
        raise


def open_ledger(ledger_conn_id: str | None = DEFAULT_LEDGER_CONN_ID) -> Ledger:
    """The opened (connected, schema migrated) ledger for a money-moving task; see the module docstring.

    Raises `LedgerConfigError` or `LedgerUnavailableError`; callers turn them into a failed task before any
    request to the API.
    """
    from airflow_provider_nexmo_numbers.ledger import sqlite

    conn_id = ledger_conn_id or DEFAULT_LEDGER_CONN_ID
    conn = _connection(conn_id)
    if conn is None:
        if not uses_local_executor():
            raise LedgerConfigError(
                f"no ledger connection {conn_id!r} and the executor ({', '.join(_executors())}) runs tasks "
                "on several machines: a local SQLite ledger per worker could let two workers buy the same "
                "number. "
                f"Create the Airflow connection {conn_id!r} (e.g. postgresql://user@db-host/ledger, type "
                "postgres) or, for workers that share one disk, an explicit sqlite connection; or set "
                "ledger_conn_id on the operator. Nothing was bought."
            )
        path = sqlite.default_path()
        return Ledger(
            sqlite.connector(path), dialect="sqlite", description=f"default SQLite file {path}"
        ).open()

    extra: Mapping[str, Any] = conn.extra_dejson or {}
    prefix = str(extra.get("table_prefix") or DEFAULT_PREFIX)
    conn_type = (conn.conn_type or "").lower()
    if conn_type == "sqlite":
        path = conn.host or conn.schema
        if not path:
            raise LedgerConfigError(f"ledger connection {conn_id!r} (sqlite) needs the file path in host")
        return Ledger(
            sqlite.connector(path), dialect="sqlite", prefix=prefix, description=f"{conn_id!r}: SQLite {path}"
        ).open()
    if conn_type in ("postgres", "postgresql"):
        from airflow.providers.postgres.hooks.postgres import PostgresHook

        hook = PostgresHook(postgres_conn_id=conn_id)
        # The hook passes unknown extras to the driver as connection options; table_prefix is ours.
        hook.ignored_extra_options = {*getattr(hook, "ignored_extra_options", ()), "table_prefix"}
        where = f"{conn_id!r}: PostgreSQL {conn.host or 'localhost'}:{conn.port or 5432}/{conn.schema or ''}"
        return Ledger(hook.get_conn, dialect="postgresql", prefix=prefix, description=where).open()
    raise LedgerConfigError(
        f"ledger connection {conn_id!r} has type {conn.conn_type!r}; the ledger supports postgres and sqlite "
        "connections (its claims need INSERT ... ON CONFLICT ... RETURNING)"
    )


def owner_of(context: Mapping[str, Any] | None, task_id: str) -> str:
    """The claim owner of this task instance: ``dag_id/run_id/task_id/map_index``, stable across tries.

    Outside a task run (``execute({})`` in a script) there are no tries to survive: a unique ad-hoc owner.
    """
    ti = (context or {}).get("ti") or (context or {}).get("task_instance")
    if ti is not None and getattr(ti, "run_id", None):
        map_index = getattr(ti, "map_index", -1)
        return f"{ti.dag_id}/{ti.run_id}/{ti.task_id}/{-1 if map_index is None else map_index}"
    import os
    import uuid

    return f"adhoc/{task_id}/{os.getpid()}-{uuid.uuid4().hex[:8]}"


def read_facts(
    msisdns: Iterable[str] | None = None, *, ledger_conn_id: str | None = DEFAULT_LEDGER_CONN_ID
) -> dict[str, dict[str, Any]]:
    """The ledger's facts per msisdn (`Ledger.facts`: bought_at, monthly_cost, initial_price, currency,
    campaign, owner, state), for exports that join them onto inventory rows.

    Read-only and never blocking: with no ledger connection and no default SQLite file yet there is nothing
    to join, so the result is ``{}`` (no file is created). An unreachable configured ledger raises
    `LedgerUnavailableError`, so that an export can say the ledger columns are missing instead of writing
    empty ones silently.
    """
    from airflow_provider_nexmo_numbers.ledger import sqlite

    conn_id = ledger_conn_id or DEFAULT_LEDGER_CONN_ID
    if _connection(conn_id) is None and not sqlite.default_path().exists():
        return {}
    with open_ledger(conn_id) as ledger:
        return ledger.facts(msisdns)
