"""The sensor in real DAG runs (`dag.test()`), in all three modes, against a loopback webhook that turns
ready after a number of hits (never after a number of seconds: the machine's speed must not matter).

`dag.test()` runs a deferred task's trigger inline and ignores the defer timeout, so every run here is bounded
by pytest-timeout, and the sensor's own trigger deadline is what ends the never-ready run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.airflow_db import load_dag_module, return_value
from tests.sensors import dag_hooks

DAGS_DIR = Path(__file__).parent / "dags"
DAG_FILE = DAGS_DIR / "nexmo_webhook_ready_test_dags.py"

pytestmark = [pytest.mark.airflow_db, pytest.mark.timeout(120)]


@pytest.fixture
def dags(dags_folder):
    """The test DAG module, with DAGS_FOLDER pointing at its folder (dag.test() needs the DAG serialized)."""
    dags_folder(DAGS_DIR)
    yield load_dag_module(DAG_FILE)
    dag_hooks.install(None)


def _task_states(dag_run) -> dict[str, str]:
    return {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()}


def _reschedule_count(dag_run, task_id: str) -> int:
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.taskreschedule import TaskReschedule
    from airflow.utils.session import create_session
    from sqlalchemy import func, select

    with create_session() as session:
        return session.scalar(
            select(func.count(TaskReschedule.id))
            .join(TaskInstance, TaskInstance.id == TaskReschedule.ti_id)
            .where(
                TaskInstance.dag_id == dag_run.dag_id,
                TaskInstance.run_id == dag_run.run_id,
                TaskInstance.task_id == task_id,
            )
        )


@pytest.mark.parametrize("dag_name", ["poke_dag", "reschedule_dag", "deferrable_dag"])
def test_each_mode_waits_for_the_webhook(dags, local_webhook, dag_name):
    url = local_webhook.url(f"ready-after-hits/2/{dag_name}")
    dag_hooks.install(lambda: url)
    dag_run = getattr(dags, dag_name).test()

    assert _task_states(dag_run) == {"make_hook": "success", "wait": "success"}
    assert dag_run.state == "success"
    result = return_value(dag_run, "wait")
    assert result["url"] == url
    assert result["status_code"] == 200
    assert len(local_webhook.hits) == 3  # it really waited through both 503s
    if dag_name == "reschedule_dag":
        assert _reschedule_count(dag_run, "wait") == 2  # the worker slot was released between pokes
        assert result["attempts"] == 3  # numbered across the pokes
    elif dag_name == "poke_dag":
        assert result["attempts"] == 3


def test_never_ready_deferrable_skips_with_soft_fail_within_its_timeout(dags, local_webhook):
    dag_hooks.install(lambda: local_webhook.url("status/503"))
    dag_run = dags.never_ready_deferrable_soft_fail_dag.test()

    assert _task_states(dag_run)["wait"] == "skipped"


def test_never_ready_poke_fails_with_sensor_timeout(dags, local_webhook):
    dag_hooks.install(lambda: local_webhook.url("status/503"))
    dag_run = dags.never_ready_poke_dag.test()

    assert _task_states(dag_run)["wait"] == "failed"
    assert dag_run.state == "failed"
