"""The ledger's rules on both databases (SQLite file, PostgreSQL), and how money-moving tasks use it:
resolved before any request, refused when unsafe for the executor, never a silent fallback."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal

import pytest
from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException

from airflow_provider_nexmo_numbers.ledger import sqlite
from airflow_provider_nexmo_numbers.ledger.core import LeaseHeldError, Ledger
from tests.fixtures.airflow import conn_env_var
from tests.ledger.conftest import LEDGER_CONN_ID, PG, drop_ledger_tables, postgres_or_skip


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["sqlite", "postgres"])
def ledger(request, tmp_path):
    clock = Clock()
    if request.param == "sqlite":
        made = Ledger(sqlite.connector(tmp_path / "ledger.db"), dialect="sqlite", clock=clock)
        prefix = None
    else:
        import psycopg2

        postgres_or_skip().close()
        prefix = f"t{uuid.uuid4().hex[:10]}_"
        made = Ledger(lambda: psycopg2.connect(**PG), dialect="postgresql", prefix=prefix, clock=clock)
    made.clock = clock
    with made:
        yield made
    if prefix:
        drop_ledger_tables(prefix)


def test_one_claim_wins_and_expired_claims_are_taken_over(ledger):
    first = ledger.claim("447700900001", "GB", "a", lease_seconds=60)
    second = ledger.claim("447700900001", "GB", "b", lease_seconds=60)
    assert (first.granted, second.granted, second.holder) == (True, False, "a")
    ledger.clock.now += 61
    assert ledger.claim("447700900001", "GB", "b", lease_seconds=60).granted


def test_a_claim_whose_purchase_was_sent_never_expires(ledger):
    ledger.claim("447700900001", "GB", "a", lease_seconds=60)
    ledger.mark_buying("447700900001", "a", monthly_cost=Decimal("1.10"))
    ledger.clock.now += 10_000
    assert not ledger.claim("447700900001", "GB", "b", lease_seconds=60).granted
    again = ledger.claim("447700900001", "GB", "a", lease_seconds=60)
    assert (again.granted, again.state) == (True, "buying")  # the owner's next try sees what it had sent


def test_a_lost_claim_is_never_bought(ledger):
    ledger.claim("447700900001", "GB", "a", lease_seconds=60)
    ledger.clock.now += 61
    ledger.claim("447700900001", "GB", "b", lease_seconds=60)
    with pytest.raises(Exception, match="no longer held by a"):
        ledger.mark_buying("447700900001", "a")


def test_purchase_record_deletes_the_claim_and_feeds_facts_and_reports(ledger):
    for msisdn, campaign, cost, initial in (
        ("447700900001", "c1", "1.20", "0.50"),
        ("447700900002", "c1", "0.80", None),
        ("31600000001", None, "2.00", None),
    ):
        ledger.claim(msisdn, (msisdn[:2] == "44" and "GB") or "NL", "a", campaign=campaign, lease_seconds=60)
        ledger.record_purchase(
            msisdn=msisdn,
            country="GB" if msisdn.startswith("44") else "NL",
            owner="a",
            campaign=campaign,
            monthly_cost=cost,
            initial_price=initial,
        )
    assert ledger.claims() == []
    facts = ledger.facts(["447700900001"])
    assert facts == {
        "447700900001": {
            "bought_at": "1970-01-12T13:46:40Z",
            "monthly_cost": "1.20",
            "initial_price": "0.50",
            "currency": "EUR",
            "campaign": "c1",
            "owner": "a",
            "state": "owned",
        }
    }
    report = {(r["campaign"], r["country"]): r for r in ledger.spend_report()}
    assert report[("c1", "GB")]["monthly_cost"] == "2.00"
    assert report[("c1", "GB")]["initial_cost"] == "0.50"
    assert report[(None, "NL")]["numbers"] == 1
    ledger.record_release(msisdn="447700900002", country="GB", owner="r", kind="release")
    assert ledger.facts()["447700900002"]["state"] == "released"
    assert {r["campaign"]: r["numbers"] for r in ledger.spend_report()} == {"c1": 1, None: 1}


def test_numbers_held_elsewhere_are_not_for_adoption(ledger):
    ledger.claim("447700900001", "GB", "other-owner", lease_seconds=60)
    ledger.record_purchase(msisdn="447700900002", country="GB", owner="x", campaign="other", monthly_cost="1")
    ledger.record_purchase(msisdn="447700900003", country="GB", owner="y", campaign="mine", monthly_cost="1")
    held = ledger.held_elsewhere(owner="me", campaign="mine")
    assert set(held) == {"447700900001", "447700900002"}
    assert not ledger.assign("447700900002", "GB", owner="me", campaign="mine")
    assert ledger.assign("447700900004", "GB", owner="me", campaign="mine")  # bought outside the ledger
    # A plain buy task's number that now carries the campaign's marker may join the campaign.
    ledger.record_purchase(msisdn="447700900005", country="GB", owner="buy-task", monthly_cost="1")
    assert "447700900005" in ledger.held_elsewhere(owner="me", campaign="mine")  # never adopted unasked
    assert ledger.assign("447700900005", "GB", owner="me", campaign="mine")
    assert ledger.facts()["447700900005"]["owner"] == "buy-task"  # who bought it stays recorded


def test_the_campaign_lease_waits_bounded_then_names_the_holder(ledger):
    ledger.acquire_lease("campaign-7", "run-1", lease_seconds=600, wait_seconds=0)
    sleeps = []
    with pytest.raises(LeaseHeldError, match="run-1") as caught:
        ledger.acquire_lease(
            "campaign-7", "run-2", lease_seconds=600, wait_seconds=3, poll_seconds=1, sleep=sleeps.append
        )
    assert caught.value.holder == "run-1"
    ledger.release_lease("campaign-7", "run-1")
    ledger.acquire_lease("campaign-7", "run-2", lease_seconds=600, wait_seconds=0)
    assert [row["holder"] for row in ledger.leases()] == ["run-2"]


def test_schema_creation_is_idempotent(ledger):
    ledger.record_purchase(msisdn="447700900001", country="GB", owner="a", monthly_cost="1")
    again = Ledger(ledger._connect, dialect=ledger.dialect, prefix=ledger.prefix).open()
    try:
        assert [p["msisdn"] for p in again.purchases()] == ["447700900001"]
    finally:
        again.close()


# -- how tasks resolve it ------------------------------------------------------------------------------------


def _buy(**kwargs):
    from airflow_provider_nexmo_numbers.operators.buy import NexmoBuyNumberOperator

    return NexmoBuyNumberOperator(task_id="buy", country="GB", type="mobile-lvn", **kwargs).execute({})


def test_a_distributed_executor_without_ledger_connection_fails_before_any_request(
    sandbox, nexmo_conn, monkeypatch
):
    monkeypatch.setenv("AIRFLOW__CORE__EXECUTOR", "CeleryExecutor")
    monkeypatch.delenv(conn_env_var(LEDGER_CONN_ID), raising=False)
    with pytest.raises(
        AirflowFailException, match=r"nexmo_numbers_ledger.*CeleryExecutor.*Nothing was bought"
    ):
        _buy()
    assert sandbox.admin.stats()["api_requests"] == 0
    assert not sqlite.default_path().exists()


def test_an_explicit_sqlite_ledger_is_allowed_with_a_distributed_executor(
    sandbox, nexmo_conn, monkeypatch, tmp_path
):
    monkeypatch.setenv("AIRFLOW__CORE__EXECUTOR", "CeleryExecutor")
    path = tmp_path / "shared-disk" / "ledger.db"
    monkeypatch.setenv(conn_env_var(LEDGER_CONN_ID), json.dumps({"conn_type": "sqlite", "host": str(path)}))
    result = _buy()
    with Ledger(sqlite.connector(path), dialect="sqlite") as ledger:
        assert [p["msisdn"] for p in ledger.purchases()] == [result["msisdn"]]


def test_an_unreachable_ledger_fails_money_tasks_before_any_request(sandbox, nexmo_conn, monkeypatch):
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    unreachable = {
        "conn_type": "postgres",
        "host": "127.0.0.1",
        "port": port,
        "login": "nobody",
        "password": "ledger-secret-password",
        "schema": "ledger",
        "extra": {"connect_timeout": 2},
    }
    monkeypatch.setenv(conn_env_var(LEDGER_CONN_ID), json.dumps(unreachable))
    with pytest.raises(AirflowException, match="unreachable") as caught:
        _buy()
    assert "ledger-secret-password" not in str(caught.value)
    assert sandbox.admin.stats()["api_requests"] == 0
    # Read-only work never touches the ledger.
    from airflow_provider_nexmo_numbers.operators.search import NexmoSearchNumbersOperator

    assert NexmoSearchNumbersOperator(task_id="s", country="GB", limit=3).execute({})
    assert _buy(dry_run=True)["dry_run"] is True


def test_the_spend_report_operator_reads_recorded_costs(sandbox, nexmo_conn):
    from airflow_provider_nexmo_numbers.operators.ledger_report import NexmoLedgerReportOperator

    bought = [_buy(max_monthly_cost="100") for _ in range(2)]
    before = sandbox.admin.stats()["api_requests"]

    (row,) = NexmoLedgerReportOperator(task_id="report").execute({})

    assert (row["campaign"], row["country"], row["numbers"]) == (None, "GB", 2)
    assert Decimal(row["monthly_cost"]) == sum(Decimal(b["cost"]) for b in bought)
    assert sandbox.admin.stats()["api_requests"] == before  # the ledger only
