"""Shared helpers of the proof tests: the DAG folder for `dag.test()` runs and reading a run's XComs.

The proof tests run the provider the way production does (real Airflow task runs, real HTTP to the sandbox,
a real SQLite warehouse); the only knobs they turn are configuration, documented where they are turned.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

DAGS_DIR = Path(__file__).parent / "dags"


@pytest.fixture
def proof_dags(airflow_db: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point Airflow's dags-folder bundle at tests/proof/dags (the env var and `settings.DAGS_FOLDER`, which
    Airflow copied from the config when it was first imported, possibly by an earlier test)."""
    import airflow.settings

    monkeypatch.setenv("AIRFLOW__CORE__DAGS_FOLDER", str(DAGS_DIR))
    monkeypatch.setattr(airflow.settings, "DAGS_FOLDER", str(DAGS_DIR))
    return DAGS_DIR


def load_dag(dag_id: str) -> Any:
    """Parse tests/proof/dags and return `dag_id` (and prove the folder parses without errors)."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS_DIR))
    assert bag.import_errors == {}
    dag = bag.get_dag(dag_id)
    assert dag is not None, f"{dag_id} not found in {DAGS_DIR}"
    return dag


def xcom(dag_run: Any, task_id: str) -> Any:
    """The return value task `task_id` pushed in `dag_run` (read from the metadata DB)."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        value = session.scalar(
            select(XComModel.value).where(
                XComModel.dag_id == dag_run.dag_id,
                XComModel.run_id == dag_run.run_id,
                XComModel.task_id == task_id,
                XComModel.key == "return_value",
            )
        )
    return json.loads(value) if isinstance(value, str) else value


def task_states(dag_run: Any) -> dict[str, tuple[str, int]]:
    """task_id -> (state, try_number) of every task instance of the run."""
    return {ti.task_id: (str(ti.state), ti.try_number) for ti in dag_run.get_task_instances()}
