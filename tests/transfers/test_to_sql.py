"""NexmoNumbersToSqlOperator against the sandbox, into real SQLite and PostgreSQL databases."""

from __future__ import annotations

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_provider_nexmo_numbers.client.paging import planned_requests
from airflow_provider_nexmo_numbers.transfers.to_sql import NexmoNumbersToSqlOperator
from tests.transfers.conftest import (
    INVENTORY_SIZE,
    RUN_ID,
    check_feature_flags,
    comparable,
    listing_fails_after,
    listing_pages_served,
    run_context,
)

PAGES = planned_requests(INVENTORY_SIZE)


def export(warehouse, **kwargs) -> NexmoNumbersToSqlOperator:
    kwargs.setdefault("task_id", "export_numbers")
    kwargs.setdefault("sql_conn_id", warehouse.conn_id)
    kwargs.setdefault("table", warehouse.table)
    return NexmoNumbersToSqlOperator(**kwargs)


def test_exports_every_number_and_replaces_the_snapshot_on_rerun(warehouse, inventory, capfd):
    op = export(warehouse, batch_size=1000, progress_interval=0)
    summary = op.execute(run_context())
    logged = "".join(capfd.readouterr())  # the task logger (structlog) writes to the console

    assert summary["rows"] == INVENTORY_SIZE
    assert summary["pages"] == PAGES == 114  # overlapping pages of up to 100 (client.paging.plan_page)
    assert summary["rereads"] == 0
    assert (summary["table"], summary["snapshot_id"], summary["deleted"]) == (warehouse.table, RUN_ID, 0)
    assert "10,000 numbers in about 114 requests" in logged
    assert "page 114 of 114, 9,9" in logged  # numbers counted up to the page before (duplicates excluded)
    assert "finished: 10,000 numbers from 114 pages" in logged

    rows = warehouse.rows(RUN_ID)
    assert len(rows) == INVENTORY_SIZE == warehouse.count()
    assert {row["msisdn"]: comparable(row) for row in rows} == inventory
    for row in rows[:: INVENTORY_SIZE // 50]:  # spot check the derived columns
        check_feature_flags(row)
        assert str(row["snapshot_date"]) == "2024-05-01"
        assert row["run_id"] == RUN_ID
    assert {row["features"] for row in rows} == {"SMS,VOICE"}

    # The same run again (a retry, a "clear"): the snapshot's rows are replaced, never duplicated.
    again = export(warehouse).execute(run_context())
    assert (again["rows"], again["deleted"]) == (INVENTORY_SIZE, INVENTORY_SIZE)
    assert warehouse.count() == INVENTORY_SIZE

    # Another run keeps history: one snapshot per run id.
    next_run = run_context(run_id="scheduled__2024-05-02T00:00:00+00:00", ds="2024-05-02")
    other = export(warehouse).execute(next_run)
    assert other["rows"] == INVENTORY_SIZE
    assert warehouse.count() == 2 * INVENTORY_SIZE
    assert warehouse.count(RUN_ID) == INVENTORY_SIZE


def test_failure_midway_rolls_back_to_previous_rows(warehouse, small_inventory, sandbox, flaky_nexmo_conn):
    first = export(warehouse, snapshot_id="nightly").execute(run_context())
    assert first["rows"] == len(small_inventory) == 2000
    before = warehouse.rows("nightly")

    # The same snapshot again; after 5 pages (500 rows already inserted in 5 batches) the API goes down.
    op = export(warehouse, snapshot_id="nightly", nexmo_conn_id=flaky_nexmo_conn, batch_size=100)
    with listing_fails_after(sandbox, pages=5), pytest.raises(Exception, match="503"):
        op.execute(run_context())
    assert listing_pages_served(sandbox) >= 5
    assert warehouse.rows("nightly") == before  # the delete and the inserted batches were rolled back

    # A new snapshot that fails halfway leaves no rows at all.
    op = export(warehouse, snapshot_id="other", nexmo_conn_id=flaky_nexmo_conn, batch_size=100)
    with listing_fails_after(sandbox, pages=5), pytest.raises(Exception, match="503"):
        op.execute(run_context())
    assert warehouse.count("other") == 0
    assert warehouse.count() == 2000


def test_empty_account_creates_the_table_with_no_rows(warehouse, sandbox, nexmo_conn):
    summary = export(warehouse).execute(run_context())
    assert (summary["rows"], summary["pages"]) == (0, 1)
    assert warehouse.table_exists()
    assert warehouse.count() == 0


def test_schema_qualified_table(warehouse, small_inventory):
    schema = "main" if warehouse.kind == "sqlite" else "public"
    summary = export(warehouse, table=f"{schema}.{warehouse.table}").execute(run_context())
    assert summary["table"] == f"{schema}.{warehouse.table}"
    assert warehouse.count() == len(small_inventory)


def test_existing_table_without_create(warehouse, small_inventory):
    from airflow_provider_nexmo_numbers.transfers.to_sql import create_table_sql

    conn = warehouse.connect()
    conn.cursor().execute(create_table_sql(warehouse.table))
    conn.commit()
    conn.close()
    summary = export(warehouse, create_table=False, snapshot_date="2023-12-31").execute(run_context())
    assert summary["snapshot_date"] == "2023-12-31"
    assert warehouse.count() == len(small_inventory)


def test_missing_table_without_create_fails_and_writes_nothing(warehouse, small_inventory):
    with pytest.raises(Exception, match=warehouse.table):
        export(warehouse, create_table=False).execute(run_context())
    assert not warehouse.table_exists()


def test_rendered_table_name_is_validated_before_any_request(warehouse, sandbox, nexmo_conn):
    op = export(warehouse, table="{{ params.table }}")
    op.table = "numbers; DROP TABLE users"  # what a bad template would render to
    with pytest.raises(AirflowFailException, match="table: must be a SQL identifier"):
        op.execute(run_context())
    assert sandbox.admin.stats()["api_requests"] == 0


def test_a_non_sql_connection_is_refused(sandbox, nexmo_conn):
    op = NexmoNumbersToSqlOperator(task_id="t", sql_conn_id=nexmo_conn)
    with pytest.raises(AirflowFailException, match=r"not a common\.sql DbApiHook"):
        op.execute(run_context())
