"""Each example DAG in a real `dag.test()` run against the sandbox; asserts the run and the account after it.

Configuration reaches the DAGs as `run_conf` (their Params), as it would from the trigger form. Some runs have
no logical date (`logical_date=None`), as `airflow dags trigger` and the REST API create them in Airflow 3:
the DAGs must not depend on `ds` & co. The deferrable webhook sensors run their trigger inline in
`dag.test()`, which ignores the defer timeout: every test here is bounded by pytest-timeout instead.
"""

from __future__ import annotations

import csv
import os
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest

from tests.example_dags.conftest import task_states, xcom

pytestmark = [pytest.mark.airflow_db, pytest.mark.timeout(180)]

SIP = "sip:campaign-1@pbx.example.com"


def _campaign_conf(webhook: str, export_dir: Path, **overrides) -> dict:
    conf = {
        "country": "GB",
        "webhook_url": webhook,
        "count": 3,
        "max_monthly_cost": "3.00",
        "monthly_budget": "10.00",
        "sip_uri": SIP,
        "export_dir": str(export_dir),
    }
    return {**conf, **overrides}


def _succeeded(dag_run) -> None:
    assert dag_run.state == "success", task_states(dag_run)


def test_basic_verbs_buy_configure_and_cancel_what_search_found(sandbox, nexmo_conn, example_bag):
    webhook = sandbox.admin.webhook_url("basic", ready_after=1.5)

    dag_run = example_bag.dags["nexmo_numbers_basic_verbs"].test(
        run_conf={"country": "NL", "count": 3, "max_monthly_cost": "2.50", "webhook_url": webhook}
    )

    _succeeded(dag_run)
    states = task_states(dag_run)
    for task_id in ("buy", "point_at_webhook", "cancel"):
        assert [key for key in states if key[0] == task_id] == [(task_id, i) for i in range(3)], states
    found = xcom(dag_run, "search")
    assert len(found) == 3
    assert all(n["country"] == "NL" and Decimal(n["cost"]) <= Decimal("2.50") for n in found)
    bought = xcom(dag_run, "buy")
    assert [b["msisdn"] for b in bought] == [n["msisdn"] for n in found]
    assert not any(b["already_owned"] for b in bought)
    assert all(n["mo_http_url"] == webhook for n in xcom(dag_run, "point_at_webhook"))
    assert xcom(dag_run, "wait_for_webhook")["status_code"] == 200
    assert {n["msisdn"] for n in xcom(dag_run, "list_owned")} == {n["msisdn"] for n in found}
    assert [c["already_released"] for c in xcom(dag_run, "cancel")] == [False] * 3

    stats = sandbox.admin.stats()
    msisdns = {n["msisdn"] for n in found}
    assert stats["purchases"] == dict.fromkeys(msisdns, 1)
    assert stats["updates"] == dict.fromkeys(msisdns, 1)
    assert stats["cancellations"] == dict.fromkeys(msisdns, 1)
    assert sandbox.admin.owned() == []


def test_weekly_campaign_buys_within_budget_and_a_rerun_writes_nothing(
    sandbox, nexmo_conn, example_bag, tmp_path
):
    sandbox.admin.seed_owned(4, country="GB")  # the account's other numbers: never the campaign's
    webhook = sandbox.admin.webhook_url("campaign", ready_after=1.5)
    dag = example_bag.dags["nexmo_numbers_weekly_campaign"]

    dag_run = dag.test(run_conf=_campaign_conf(webhook, tmp_path), logical_date=None)  # as the CLI does

    _succeeded(dag_run)
    assert dag_run.logical_date is None
    ensure = xcom(dag_run, "ensure_numbers")
    assert ensure["verified"] is True
    assert len(ensure["applied"]["bought"]) == 3
    assert Decimal(ensure["monthly_cost"]) <= Decimal("10.00")
    owned = {n["msisdn"]: n for n in sandbox.admin.owned()}
    assert len(owned) == 7
    for msisdn in ensure["msisdns"]:
        assert owned[msisdn]["moHttpUrl"] == webhook
        assert owned[msisdn]["voiceCallbackValue"] == SIP
    export = xcom(dag_run, "export_inventory")
    assert export["rows"] == 7
    with open(export["path"], newline="") as fh:
        assert sorted(row["msisdn"] for row in csv.DictReader(fh)) == sorted(owned)

    writes = sandbox.admin.stats()["writes"]
    # "" is the param's default (spelled out: dag.test() keeps the previous run's conf in the DAG's params):
    # under this worker's AIRFLOW_HOME, not a shared /tmp.
    rerun = dag.test(run_conf={**_campaign_conf(webhook, tmp_path), "export_dir": ""})
    _succeeded(rerun)
    assert xcom(rerun, "ensure_numbers")["write_requests"] == 0
    assert sandbox.admin.stats()["writes"] == writes  # safe to re-run: nothing bought or changed
    default_dir = Path(os.environ["AIRFLOW_HOME"]) / "nexmo_numbers_exports"
    assert Path(xcom(rerun, "export_inventory")["path"]).parent == default_dir


def test_unconfigured_campaign_and_release_skip_clearly_and_touch_nothing(sandbox, nexmo_conn, example_bag):
    """What unpausing starts: a run with the DAG file's defaults, where the webhook is not set yet."""
    for dag_id in ("nexmo_numbers_weekly_campaign", "nexmo_numbers_campaign_release"):
        dag_run = example_bag.dags[dag_id].test(logical_date=None)

        assert dag_run.state == "success", dag_id  # nothing failed: there was nothing to do
        states = task_states(dag_run)
        assert set(states.values()) == {"skipped"}, states
    assert sandbox.admin.stats()["writes"] == 0


def test_weekly_campaign_over_budget_fails_before_spending(sandbox, nexmo_conn, example_bag, tmp_path):
    webhook = sandbox.admin.webhook_url("campaign", ready_after=0)

    dag_run = example_bag.dags["nexmo_numbers_weekly_campaign"].test(
        run_conf=_campaign_conf(webhook, tmp_path, monthly_budget="1.00")
    )

    assert dag_run.state == "failed"
    assert task_states(dag_run)[("ensure_numbers", -1)] == "failed"
    assert sandbox.admin.stats()["writes"] == 0
    assert sandbox.admin.owned() == []


def _own_campaign_numbers(sandbox, webhook: str, n: int) -> list[str]:
    """Buy `n` GB numbers and mark them as the campaign's (its webhook), straight through the client."""
    from airflow_provider_nexmo_numbers.client import NexmoNumbersClient

    with NexmoNumbersClient(
        sandbox.client_id,
        sandbox.client_secret,
        base_url=sandbox.base_url,
        token_url=sandbox.token_url,
        rate_limit=0,
    ) as client:
        offers = client.search_available_numbers("GB", type="mobile-lvn", size=n).numbers
        for offer in offers:
            client.buy_number("GB", offer.msisdn)
            client.update_number("GB", offer.msisdn, mo_http_url=webhook)
    return sorted(o.msisdn for o in offers)


def test_release_dry_run_then_release_of_only_the_campaigns_numbers(sandbox, nexmo_conn, example_bag):
    webhook = sandbox.admin.webhook_url("campaign", ready_after=0)
    campaign = _own_campaign_numbers(sandbox, webhook, 3)
    sandbox.admin.seed_owned(2, country="GB")
    others = sorted(n["msisdn"] for n in sandbox.admin.owned() if n["msisdn"] not in campaign)

    dag_run = example_bag.dags["nexmo_numbers_campaign_release"].test(
        run_conf={"country": "GB", "webhook_url": webhook, "max_release": 5}
    )

    _succeeded(dag_run)
    plan = xcom(dag_run, "plan_release")
    assert plan["dry_run"] is True
    assert sorted(n["msisdn"] for n in plan["would_release"]) == campaign
    released = xcom(dag_run, "release")
    assert sorted(n["msisdn"] for n in released["released"]) == campaign
    assert sorted(sandbox.admin.stats()["cancellations"]) == campaign
    assert sorted(n["msisdn"] for n in sandbox.admin.owned()) == others


def test_release_above_the_cap_cancels_nothing(sandbox, nexmo_conn, example_bag):
    webhook = sandbox.admin.webhook_url("campaign", ready_after=0)
    _own_campaign_numbers(sandbox, webhook, 3)

    dag_run = example_bag.dags["nexmo_numbers_campaign_release"].test(
        run_conf={"country": "GB", "webhook_url": webhook, "max_release": 2}
    )

    assert dag_run.state == "failed"
    assert task_states(dag_run)[("plan_release", -1)] == "failed"  # the dry run already says no
    assert sandbox.admin.stats()["cancellations"] == {}
    assert len(sandbox.admin.owned()) == 3


def test_inventory_export_to_sql_and_parquet_then_the_report(
    sandbox, nexmo_conn, example_bag, warehouse, tmp_path
):
    pyarrow_parquet = pytest.importorskip("pyarrow.parquet")
    sandbox.admin.seed_owned(5, country="NL")
    sandbox.admin.seed_owned(3, country="GB")

    export_run = example_bag.dags["nexmo_numbers_inventory_export"].test(
        run_conf={"export_dir": str(tmp_path)}, logical_date=None
    )

    _succeeded(export_run)
    to_sql, to_parquet = xcom(export_run, "export_to_sql"), xcom(export_run, "export_to_parquet")
    assert to_sql["rows"] == to_parquet["rows"] == 8
    with sqlite3.connect(warehouse) as db:
        rows = db.execute(
            "SELECT country, COUNT(*) FROM nexmo_owned_numbers WHERE snapshot_id = ? GROUP BY country",
            (export_run.run_id,),
        ).fetchall()
    assert dict(rows) == {"GB": 3, "NL": 5}
    assert Path(to_parquet["path"]).parent == tmp_path
    assert pyarrow_parquet.read_table(to_parquet["path"]).num_rows == 8

    report_run = example_bag.dags["nexmo_numbers_inventory_report"].test()

    _succeeded(report_run)
    report = {(r["country"], r["type"]): r for r in xcom(report_run, "estimate_monthly_cost")}
    assert {key: r["numbers"] for key, r in report.items()} == {
        ("GB", "mobile-lvn"): 3,
        ("NL", "mobile-lvn"): 5,
    }
    for row in report.values():
        per_number = Decimal(row["est_eur_per_number"])
        assert per_number > 0
        assert Decimal(row["est_eur_per_month"]) == (per_number * row["numbers"]).quantize(Decimal("0.01"))
    assert sandbox.admin.stats()["writes"] == 0  # exports and reports only read


def test_report_on_an_account_with_no_numbers(sandbox, nexmo_conn, example_bag, warehouse, tmp_path):
    pytest.importorskip("pyarrow.parquet")
    assert sandbox.admin.owned() == []
    export_run = example_bag.dags["nexmo_numbers_inventory_export"].test(
        run_conf={"export_dir": str(tmp_path)}
    )
    _succeeded(export_run)
    assert xcom(export_run, "export_to_sql")["rows"] == 0

    report_run = example_bag.dags["nexmo_numbers_inventory_report"].test()

    _succeeded(report_run)
    assert xcom(report_run, "count_numbers") == []
    assert xcom(report_run, "estimate_monthly_cost") == []
