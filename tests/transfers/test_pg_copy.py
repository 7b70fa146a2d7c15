"""PostgreSQL loads through COPY with the connection's own driver, psycopg 3 and psycopg2 (issue 12).

Real PostgreSQL (127.0.0.1:5432, database `test`; skipped with the reason when absent), real exports from
the sandbox through Airflow's PostgresHook. Which driver the hook hands out is the postgres provider's own
switch (`USE_PSYCOPG3`, decided from what is installed); the psycopg2 runs set it to False.
"""

from __future__ import annotations

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_provider_nexmo_numbers.transfers._pg_copy import copy_driver, copy_rows
from airflow_provider_nexmo_numbers.transfers._rows import COLUMN_NAMES
from airflow_provider_nexmo_numbers.transfers.to_sql import NexmoNumbersToSqlOperator, create_table_sql
from tests.transfers.conftest import RUN_ID, comparable, listing_fails_after, run_context

pytestmark = pytest.mark.postgres


@pytest.fixture(params=["psycopg", "psycopg2"])
def driver(request, monkeypatch) -> str:
    import airflow.providers.postgres.hooks.postgres as pg

    if request.param == "psycopg2":
        pytest.importorskip("psycopg2", reason="psycopg2 is not installed")
        monkeypatch.setattr(pg, "USE_PSYCOPG3", False)
    elif not pg.USE_PSYCOPG3:
        pytest.skip("the postgres provider does not use psycopg 3 here (needs psycopg and SQLAlchemy 2)")
    return request.param


def _export(warehouse, **kwargs) -> NexmoNumbersToSqlOperator:
    return NexmoNumbersToSqlOperator(
        task_id="export", sql_conn_id=warehouse.conn_id, table=warehouse.table, **kwargs
    )


def test_copy_loads_the_snapshot_and_replaces_it_on_rerun(driver, postgres_warehouse, small_inventory):
    first = _export(postgres_warehouse, batch_size=300).execute(run_context())
    assert (first["load"], first["rows"], first["deleted"]) == ("copy", 2_000, 0)
    rows = postgres_warehouse.rows(RUN_ID)
    assert {row["msisdn"]: comparable(row) for row in rows} == small_inventory
    assert all(isinstance(row["has_sms"], bool) for row in rows)
    assert str(rows[0]["snapshot_date"]) == "2024-05-01"

    again = _export(postgres_warehouse, batch_size=300).execute(run_context())
    assert (again["load"], again["rows"], again["deleted"]) == ("copy", 2_000, 2_000)
    assert postgres_warehouse.count() == 2_000


def test_copy_failing_midway_rolls_back_to_the_previous_rows(
    driver, postgres_warehouse, small_inventory, sandbox, flaky_nexmo_conn
):
    _export(postgres_warehouse, snapshot_id="nightly").execute(run_context())
    before = postgres_warehouse.rows("nightly")
    op = _export(postgres_warehouse, snapshot_id="nightly", nexmo_conn_id=flaky_nexmo_conn, batch_size=100)
    with listing_fails_after(sandbox, pages=5), pytest.raises(Exception, match="503"):
        op.execute(run_context())
    assert postgres_warehouse.rows("nightly") == before


def test_insert_method_keeps_the_portable_path_on_postgres(postgres_warehouse, small_inventory):
    summary = _export(postgres_warehouse, load_method="insert").execute(run_context())
    assert (summary["load"], summary["rows"]) == ("insert", 2_000)
    rows = postgres_warehouse.rows(RUN_ID)
    assert {row["msisdn"]: comparable(row) for row in rows} == small_inventory


def test_copy_is_refused_where_there_is_no_postgres(sqlite_warehouse, small_inventory, sandbox):
    with pytest.raises(AirflowFailException, match="load_method: 'copy' needs a PostgreSQL connection"):
        _export(sqlite_warehouse, load_method="copy").execute(run_context())
    assert "GET /account/numbers" not in sandbox.admin.stats()["requests"]


def test_sqlite_keeps_the_generic_path(sqlite_warehouse, small_inventory):
    assert _export(sqlite_warehouse).execute(run_context())["load"] == "insert"


def test_bad_load_method():
    with pytest.raises(ValueError, match="load_method: must be one of auto, copy, insert"):
        NexmoNumbersToSqlOperator(task_id="x", sql_conn_id="pg", load_method="bulk")


def test_awkward_values_survive_copy(driver, postgres_warehouse):
    """Tabs, newlines, backslashes, quotes, non-ASCII, empty strings and NULLs, through each driver."""
    from airflow.providers.postgres.hooks.postgres import PostgresHook

    awkward = ["tab\there", "line\nbreak\r\n", "back\\slash \\N", 'quo"te, comma', "ünïcødé €", ""]
    hook = PostgresHook(postgres_conn_id=postgres_warehouse.conn_id)
    conn = hook.get_conn()
    assert copy_driver(hook, conn) == driver
    rows = []
    for n, text in enumerate([*awkward, None]):
        row = dict.fromkeys(COLUMN_NAMES)
        row.update(snapshot_id="s", snapshot_date="2024-05-01", country="NL", msisdn=str(n))
        row.update(has_sms=n % 2 == 0, has_voice=False, has_mms=True, mo_http_url=text, features=text)
        rows.append(tuple(row[c] for c in COLUMN_NAMES))
    try:
        with conn.cursor() as cur:
            cur.execute(create_table_sql(postgres_warehouse.table))
            assert copy_rows(driver, cur, postgres_warehouse.table, COLUMN_NAMES, rows, batch=3) == len(rows)
        conn.commit()
    finally:
        conn.close()
    back = {r["msisdn"]: r for r in postgres_warehouse.rows("s")}
    for n, text in enumerate([*awkward, None]):
        assert back[str(n)]["mo_http_url"] == text
        assert back[str(n)]["features"] == text
        assert back[str(n)]["has_sms"] is (n % 2 == 0)


def test_text_format_escapes_only_what_needs_it():
    import datetime as dt

    from airflow_provider_nexmo_numbers.transfers._pg_copy import text_lines

    rows = [("a", None, True), ("t\tab", "b\\s", False), (7, dt.date(2024, 5, 1), None), ("\\N",), ("",)]
    assert text_lines(rows) == "a\t\\N\tt\nt\\tab\tb\\\\s\tf\n7\t2024-05-01\t\\N\n\\\\N\n\n"
