"""Helpers for the example-DAG tests: the folder, a DagBag over it, XCom reading, a SQLite warehouse.

Pointing Airflow at the folder is the shared `dags_folder` (tests/fixtures/airflow_db.py). `xcom` is not the
shared `return_value`: the example DAGs map tasks, and it returns a mapped task's values as a list.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.airflow_compat import parse_dag_folder

REPO = Path(__file__).resolve().parents[2]
EXAMPLE_DAGS = REPO / "example_dags"

EXPECTED_DAG_IDS = {
    "nexmo_numbers_basic_verbs",
    "nexmo_numbers_weekly_campaign",
    "nexmo_numbers_campaign_release",
    "nexmo_numbers_inventory_export",
    "nexmo_numbers_inventory_report",
    # Ledger examples (tests/example_dags/test_ledger_dags.py):
    "nexmo_numbers_mapped_buy",
    "nexmo_numbers_campaign_approval",
    "nexmo_numbers_campaign_drift",
}


@pytest.fixture
def example_bag(dags_folder: Callable[[Path], Path]):
    """The example DAGs parsed for dag.test() (which needs the dags folder to hold the DAG file)."""
    dags_folder(EXAMPLE_DAGS)
    bag = parse_dag_folder(EXAMPLE_DAGS)
    assert bag.import_errors == {}
    return bag


@pytest.fixture
def warehouse(tmp_path, monkeypatch) -> Path:
    """The `nexmo_numbers_warehouse` connection as a SQLite file (the embedded default)."""
    db = tmp_path / "warehouse.db"
    monkeypatch.setenv(
        "AIRFLOW_CONN_NEXMO_NUMBERS_WAREHOUSE", json.dumps({"conn_type": "sqlite", "host": str(db)})
    )
    return db


def task_states(dag_run) -> dict[tuple[str, int], str]:
    return {(ti.task_id, ti.map_index): str(ti.state) for ti in dag_run.get_task_instances()}


def xcom(dag_run, task_id: str) -> Any:
    """A task's return value; for a mapped task the list of its instances' values in map_index order
    (the shared `return_value` reads one value per task)."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.execute(
            select(XComModel.map_index, XComModel.value)
            .where(
                XComModel.dag_id == dag_run.dag_id,
                XComModel.run_id == dag_run.run_id,
                XComModel.task_id == task_id,
                XComModel.key == "return_value",
            )
            .order_by(XComModel.map_index)
        ).all()
    values = [json.loads(v) if isinstance(v, str) else v for _, v in rows]
    if rows and rows[0][0] >= 0:
        return values
    return values[0] if values else None
