"""The sensor in real DAG runs (`dag.test()`), in all three modes, against the sandbox's delayed webhook.

`dag.test()` runs a deferred task's trigger inline and ignores the defer timeout, so every run here is bounded
by pytest-timeout, and the sensor's own trigger deadline is what ends the never-ready run.
"""

from __future__ import annotations

import time
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
def test_each_mode_waits_for_the_delayed_webhook(dags, delayed_webhook, dag_name):
    urls: list[str] = []

    def factory() -> str:
        urls.append(delayed_webhook(2.5))
        return urls[-1]

    dag_hooks.install(factory)
    started = time.monotonic()
    dag_run = getattr(dags, dag_name).test()
    elapsed = time.monotonic() - started

    assert _task_states(dag_run) == {"make_hook": "success", "wait": "success"}
    assert dag_run.state == "success"
    result = return_value(dag_run, "wait")
    assert result["url"] == urls[0]
    assert result["status_code"] == 200
    assert elapsed >= 2.0  # it really waited for the 503 phase to end
    if dag_name == "reschedule_dag":
        assert _reschedule_count(dag_run, "wait") >= 1  # the worker slot was released between pokes
        assert result["attempts"] >= 1  # counted per task execution
    else:
        assert result["attempts"] >= 2  # at least one 503 before the 200


def test_never_ready_deferrable_skips_with_soft_fail_within_its_timeout(dags, delayed_webhook):
    dag_hooks.install(lambda: delayed_webhook(3600))
    started = time.monotonic()
    dag_run = dags.never_ready_deferrable_soft_fail_dag.test()
    elapsed = time.monotonic() - started

    assert _task_states(dag_run)["wait"] == "skipped"
    assert elapsed < 60  # timeout=3 s; the rest is dag.test() overhead


def test_never_ready_poke_fails_with_sensor_timeout(dags, delayed_webhook):
    dag_hooks.install(lambda: delayed_webhook(3600))
    dag_run = dags.never_ready_poke_dag.test()

    assert _task_states(dag_run)["wait"] == "failed"
    assert dag_run.state == "failed"
