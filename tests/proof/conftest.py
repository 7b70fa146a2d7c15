"""Shared helpers of the proof tests: the DAG folder for `dag.test()` runs, its DAGs and their task states.

The proof tests run the provider the way production does (real Airflow task runs, real HTTP to the sandbox,
a real SQLite warehouse); the only knobs they turn are configuration, documented where they are turned.
Pointing Airflow at the folder, loading a DAG file and reading a run's XComs are the shared helpers of
tests/fixtures/airflow_db.py (`dags_folder`, `load_dag_module`, `return_value`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.airflow_db import load_dag_module

DAGS_DIR = Path(__file__).parent / "dags"


@pytest.fixture
def proof_dags(dags_folder: Callable[[Path], Path]) -> Path:
    """Airflow's dags-folder bundle pointed at tests/proof/dags (`dag.test()` serializes the DAG from there;
    the secrets test's task processes parse it from there)."""
    return dags_folder(DAGS_DIR)


def load_dag(dag_id: str) -> Any:
    """The DAG `dag_id`, from its file tests/proof/dags/<dag_id>_dag.py (module attribute `dag`)."""
    dag = load_dag_module(DAGS_DIR / f"{dag_id}_dag.py").dag
    assert dag.dag_id == dag_id
    return dag


def task_states(dag_run: Any) -> dict[str, tuple[str, int]]:
    """task_id -> (state, try_number) of every task instance of the run."""
    return {ti.task_id: (str(ti.state), ti.try_number) for ti in dag_run.get_task_instances()}
