"""Real `dag.test()` runs: dynamic task mapping over the operators' XCom, and task retries after a crash.

These need a migrated metadata database (fixture `airflow_db`) and the DAG folder pointed at
tests/operators/dags.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.airflow_compat import parse_dag_folder

DAGS = Path(__file__).parent / "dags"

pytestmark = pytest.mark.airflow_db


@pytest.fixture
def dag_bag(dags_folder):
    dags_folder(DAGS)
    bag = parse_dag_folder(DAGS)
    assert bag.import_errors == {}
    return bag


def _task_states(dag_run) -> dict[tuple[str, int], str]:
    return {(ti.task_id, ti.map_index): ti.state for ti in dag_run.get_task_instances()}


def _xcoms(dag_run, task_id) -> dict[int, object]:
    """Return values of `task_id` in this run by map index, read from the metadata database."""
    from airflow import settings
    from airflow.models.xcom import XComModel

    query = XComModel.get_many(
        run_id=dag_run.run_id, key="return_value", dag_ids=dag_run.dag_id, task_ids=task_id
    )
    with settings.Session() as session:
        return {row.map_index: XComModel.deserialize_value(row) for row in session.scalars(query)}


def test_mapped_buy_and_update_over_a_search(sandbox, nexmo_conn, dag_bag):
    webhook = sandbox.admin.webhook_url(name="dag-mapped", ready_after=0)
    dag = dag_bag.get_dag("nexmo_operators_mapped")

    dag_run = dag.test(run_conf={"webhook": webhook, "budget": "50.00"})

    states = _task_states(dag_run)
    assert dag_run.state == "success", states
    assert sorted(k for k in states if k[0] == "buy") == [("buy", 0), ("buy", 1), ("buy", 2)]
    assert sorted(k for k in states if k[0] == "configure") == [("configure", i) for i in range(3)]
    assert set(states.values()) == {"success"}

    stats = sandbox.admin.stats()
    owned = {n["msisdn"]: n for n in sandbox.admin.owned()}
    assert len(stats["purchases"]) == 3
    assert set(stats["purchases"].values()) == {1}
    for msisdn in stats["purchases"]:
        assert owned[msisdn]["moHttpUrl"] == webhook
    found = _xcoms(dag_run, "search")[-1]
    bought = _xcoms(dag_run, "buy")
    configured = _xcoms(dag_run, "configure")
    assert sorted(p["msisdn"] for p in bought.values()) == sorted(n["msisdn"] for n in found)
    assert sorted(stats["purchases"]) == sorted(n["msisdn"] for n in found)
    assert all(p["already_owned"] is False and p["cost"] for p in bought.values())
    assert {n["mo_http_url"] for n in configured.values()} == {webhook}
    assert all(
        r["dry_run"] and not r["already_released"] for r in _xcoms(dag_run, "release_dry_run").values()
    )
    assert stats["updates"] == dict.fromkeys(stats["purchases"], 1)
    assert stats["cancellations"] == {}  # the release was a dry run


def test_retried_buy_by_criteria_buys_once(sandbox, nexmo_conn, dag_bag):
    dag = dag_bag.get_dag("nexmo_operators_retry")
    # First try: the purchase commits but its answer is lost, and the client's look-up keeps failing.
    sandbox.admin.queue_fault("drop_after_commit", operation="POST /number/buy")
    sandbox.admin.queue_fault("status", operation="GET /account/numbers", status=503, count=4)

    dag_run = dag.test()

    assert dag_run.state == "success", _task_states(dag_run)
    ti = dag_run.get_task_instances()[0]
    assert ti.try_number == 2
    stats = sandbox.admin.stats()
    assert len(stats["purchases"]) == 1
    assert set(stats["purchases"].values()) == {1}
    # the second try recognised the first try's purchase through the task state store
    result = _xcoms(dag_run, "buy_by_criteria")[-1]
    assert result["msisdn"] in stats["purchases"]
    assert result["already_owned"] is True
    assert result["cost"] is not None
