"""A real DAG run (`dag.test()`): ensure with a crash between purchase and configuration on the first try,
the retry resuming from the purchase journal in Airflow's task state store, then release of what ensure
returned."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from tests.fixtures.airflow_db import load_dag_module, return_value

DAGS_DIR = Path(__file__).parent / "dags"
DAG_FILE = DAGS_DIR / "nexmo_campaign_test_dag.py"

pytestmark = [pytest.mark.airflow_db, pytest.mark.timeout(240)]


@pytest.fixture
def campaign_dag(dags_folder, nexmo_conn):
    dags_folder(DAGS_DIR)
    module = load_dag_module(DAG_FILE)
    return (
        module.dag
        if hasattr(module, "dag")
        else next(v for v in vars(module).values() if type(v).__name__ == "DAG")
    )


def test_campaign_dag_resumes_after_a_crash_and_releases_what_it_bought(sandbox, campaign_dag):
    webhook = sandbox.admin.webhook_url("dag-campaign", ready_after=0)
    # The first configuration fails (420, as when the API's webhook check fails): try 1 dies holding one
    # purchased, unconfigured number.
    sandbox.admin.queue_fault("status", operation="POST /number/update", status=420)

    dag_run = campaign_dag.test(run_conf={"hook": webhook, "count": 3})

    tis = {ti.task_id: ti for ti in dag_run.get_task_instances()}
    assert dag_run.state == "success", {k: str(ti.state) for k, ti in tis.items()}
    assert tis["ensure_numbers"].try_number == 2

    ensured = return_value(dag_run, "ensure_numbers")
    assert len(ensured["msisdns"]) == 3
    assert len(ensured["plan"]["adopt"]) == 1  # the journalled purchase of try 1
    assert ensured["plan"]["adopt"][0]["cost_basis"] == "known"
    assert len(ensured["applied"]["bought"]) == 2
    assert Decimal(ensured["monthly_cost"]) <= 10

    released = return_value(dag_run, "release_numbers")
    assert sorted(r["msisdn"] for r in released["released"]) == ensured["msisdns"]

    stats = sandbox.admin.stats()
    assert sorted(stats["purchases"]) == ensured["msisdns"]
    assert set(stats["purchases"].values()) == {1}
    assert sorted(stats["cancellations"]) == ensured["msisdns"]
    assert set(stats["cancellations"].values()) == {1}
    assert sandbox.admin.owned() == []
