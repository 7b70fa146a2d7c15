"""The ledger's example DAGs in real `dag.test()` runs against the sandbox, with the default SQLite ledger."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.example_dags.conftest import task_states, xcom

pytestmark = [pytest.mark.airflow_db, pytest.mark.timeout(240)]


def _succeeded(dag_run) -> None:
    assert dag_run.state == "success", task_states(dag_run)


def test_mapped_buy_buys_distinct_numbers(sandbox, nexmo_conn, example_bag):
    dag_run = example_bag.dags["nexmo_numbers_mapped_buy"].test(run_conf={"numbers": 3})

    _succeeded(dag_run)
    bought = xcom(dag_run, "buy")
    assert len({item["msisdn"] for item in bought}) == 3
    assert [item["already_owned"] for item in bought] == [False, False, False]
    assert len({item["owner"] for item in bought}) == 3  # one ledger owner per mapped instance
    purchases = sandbox.admin.stats()["purchases"]
    assert sorted(purchases) == sorted(item["msisdn"] for item in bought)
    assert set(purchases.values()) == {1}


def test_approval_dag_applies_a_plan_below_the_threshold_without_asking(sandbox, nexmo_conn, example_bag):
    webhook = sandbox.admin.webhook_url("approval", ready_after=0)
    conf = {"webhook_url": webhook, "count": 2, "approval_threshold": "100.00"}

    dag_run = example_bag.dags["nexmo_numbers_campaign_approval"].test(run_conf=conf)

    _succeeded(dag_run)
    states = task_states(dag_run)
    assert states[("approve", -1)] == "skipped"
    planned, applied = xcom(dag_run, "plan"), xcom(dag_run, "apply")
    assert Decimal(planned["plan"]["first_month_cost"]) <= Decimal("100")
    assert applied["plan_digest"] == planned["plan_digest"]
    assert sorted(sandbox.admin.stats()["purchases"]) == sorted(i["msisdn"] for i in planned["plan"]["buy"])


def test_approval_dag_asks_above_the_threshold(example_bag):
    dag = example_bag.dags["nexmo_numbers_campaign_approval"]
    approve = dag.get_task("approve")
    assert type(approve).__name__ == "ApprovalOperator"  # Airflow >= 3.1
    assert dag.get_task("apply").upstream_task_ids == {"plan", "approve", "below_threshold"}
    assert dag.get_task("apply").saved_plan is not None


def test_drift_dag_finds_a_number_released_by_hand(sandbox, nexmo_conn, example_bag):
    from airflow_provider_nexmo_numbers.hooks.nexmo_numbers import NexmoNumbersHook
    from airflow_provider_nexmo_numbers.operators.ensure import NexmoEnsureNumbersOperator

    webhook = sandbox.admin.webhook_url("drift-dag", ready_after=0)
    selector = {"country": "GB", "type": "mobile-lvn", "mo_http_url": webhook}
    ours = NexmoEnsureNumbersOperator(task_id="e", selector=selector, count=2).execute({})["msisdns"]
    dag = example_bag.dags["nexmo_numbers_campaign_drift"]
    conf = {"webhook_url": webhook, "count": 2, "on_drift": "fail"}
    _succeeded(dag.test(run_conf=conf))

    NexmoNumbersHook(nexmo_conn_id=nexmo_conn).cancel_number("GB", ours[0])
    dag_run = dag.test(run_conf=conf)

    assert task_states(dag_run)[("check_drift", -1)] == "failed"
