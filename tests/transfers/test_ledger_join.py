"""Exports can join the purchase ledger's facts onto each row (issue 15), opt-in, in every target.

Real parts: the sandbox account over HTTP, the default SQLite ledger under AIRFLOW_HOME (emptied before each
test by tests/fixtures/ledger.py), a real buy of a pool number, real SQLite/PostgreSQL warehouses.
"""

from __future__ import annotations

import json

import pytest
from airflow.providers.common.compat.sdk import AirflowException

from airflow_provider_nexmo_numbers.hooks.nexmo_numbers import NexmoNumbersHook
from airflow_provider_nexmo_numbers.transfers._rows import COLUMN_NAMES, LEDGER_FACTS
from airflow_provider_nexmo_numbers.transfers.to_file import NexmoNumbersToFileOperator
from airflow_provider_nexmo_numbers.transfers.to_sql import NexmoNumbersToSqlOperator
from tests.transfers.conftest import RUN_ID, run_context
from tests.transfers.test_to_file import read_back

OWNER = "nexmo_campaign/scheduled__2024-05-01/ensure/-1"


@pytest.fixture
def bought(sandbox, nexmo_conn) -> str:
    """Three numbers bought outside the provider, and one bought and recorded in the ledger."""
    from airflow_provider_nexmo_numbers.ledger.airflow import open_ledger

    sandbox.admin.seed_owned(3, country="GB", configured=True)
    msisdn = next(n["msisdn"] for n in sandbox.admin.pool("GB") if n["type"] == "mobile-lvn")
    ledger = open_ledger()
    ledger.claim(msisdn, "GB", OWNER, campaign="gb-sms", lease_seconds=60)
    hook = NexmoNumbersHook()
    hook.buy_number("GB", msisdn)
    hook.close()
    ledger.record_purchase(msisdn=msisdn, country="GB", owner=OWNER, campaign="gb-sms", monthly_cost="0.90")
    return msisdn


def _check(rows: list[dict], msisdn: str) -> None:
    by_msisdn = {row["msisdn"]: row for row in rows}
    assert len(by_msisdn) == 4
    mine = by_msisdn.pop(msisdn)
    assert (mine["monthly_cost"], mine["currency"], mine["campaign"], mine["owner"]) == (
        "0.90",
        "EUR",
        "gb-sms",
        OWNER,
    )
    assert mine["bought_at"].startswith("20")  # ISO 8601, UTC
    for other in by_msisdn.values():  # bought outside the provider: the ledger knows nothing of them
        assert all(other[name] in (None, "") for name in LEDGER_FACTS)


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_file_export_joins_the_ledger_facts(fmt, bought, tmp_path):
    path = tmp_path / f"numbers.{fmt}"
    NexmoNumbersToFileOperator(task_id="export", path=str(path), ledger_facts=True).execute(run_context())
    if fmt == "csv":
        header = path.read_text().splitlines()[0].split(",")
        assert tuple(header) == COLUMN_NAMES + LEDGER_FACTS
        import csv

        with open(path, newline="") as fh:
            rows = list(csv.DictReader(fh))
    elif fmt == "jsonl":
        rows = [json.loads(line) for line in path.read_text().splitlines()]
    else:
        import pyarrow.parquet as pq

        rows = pq.read_table(path).to_pylist()
    _check(rows, bought)


def test_sql_export_joins_the_ledger_facts(warehouse, bought):
    op = NexmoNumbersToSqlOperator(
        task_id="export", sql_conn_id=warehouse.conn_id, table=warehouse.table, ledger_facts=True
    )
    assert op.execute(run_context())["rows"] == 4
    _check(warehouse.rows(RUN_ID), bought)


def test_without_the_option_no_ledger_columns(bought, tmp_path):
    path = tmp_path / "numbers.csv"
    NexmoNumbersToFileOperator(task_id="export", path=str(path)).execute(run_context())
    assert tuple(read_back(path, "csv")[0]) == COLUMN_NAMES


def test_an_unreachable_ledger_fails_before_any_request(sandbox, nexmo_conn, monkeypatch, tmp_path):
    import socket

    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    conn = {"conn_type": "postgres", "host": "127.0.0.1", "port": port, "login": "x", "schema": "ledger"}
    monkeypatch.setenv("AIRFLOW_CONN_BROKEN_LEDGER", json.dumps(conn))
    path = tmp_path / "numbers.csv"
    op = NexmoNumbersToFileOperator(
        task_id="export", path=str(path), ledger_facts=True, ledger_conn_id="broken_ledger"
    )
    with pytest.raises(
        AirflowException, match=r"ledger_facts: the ledger \('broken_ledger'\) could not be read"
    ):
        op.execute(run_context())
    assert "GET /account/numbers" not in sandbox.admin.stats()["requests"]
    assert not path.exists()


def test_bad_ledger_arguments():
    with pytest.raises(ValueError, match="ledger_facts: must be True or False"):
        NexmoNumbersToFileOperator(task_id="x", path="/d/n.csv", ledger_facts="yes")
    with pytest.raises(ValueError, match="ledger_conn_id: must be a non-empty connection id"):
        NexmoNumbersToFileOperator(task_id="x", path="/d/n.csv", ledger_conn_id="")
