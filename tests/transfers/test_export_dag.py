"""The exports in a real DAG run (`dag.test()`): templates rendered, XCom summaries, Asset events recorded."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from tests.fixtures.airflow_compat import parse_dag_folder

DAGS = Path(__file__).parent / "dags"

pytestmark = [pytest.mark.airflow_db, pytest.mark.timeout(240)]


@pytest.fixture
def export_dag(dags_folder, sqlite_warehouse):
    dags_folder(DAGS)
    bag = parse_dag_folder(DAGS)
    assert bag.import_errors == {}
    return bag.get_dag("nexmo_inventory_export")


def _xcom(dag_run, task_id):
    ti = next(t for t in dag_run.get_task_instances() if t.task_id == task_id)
    return ti.xcom_pull(task_ids=task_id)


def test_nightly_export_run(export_dag, sandbox, nexmo_conn, sqlite_warehouse, tmp_path):
    sandbox.admin.seed_owned(1_500, country="US")
    logical_date = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)

    dag_run = export_dag.test(logical_date=logical_date, run_conf={"dir": str(tmp_path)})

    states = {ti.task_id: ti.state for ti in dag_run.get_task_instances()}
    assert dag_run.state == "success", states
    to_sql, to_parquet = _xcom(dag_run, "to_sql"), _xcom(dag_run, "to_parquet")
    assert to_sql["rows"] == to_parquet["rows"] == 1_500
    assert to_sql["snapshot_id"] == to_parquet["snapshot_id"] == dag_run.run_id
    assert to_parquet["path"] == str(tmp_path / "numbers_2024-05-01.parquet")
    db = sqlite3.connect(Path(sqlite_warehouse.connect().execute("PRAGMA database_list").fetchone()[2]))
    assert db.execute("SELECT COUNT(*), MIN(snapshot_date) FROM nexmo_numbers_snapshot").fetchone() == (
        1_500,
        "2024-05-01",
    )

    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        uris = session.scalars(
            select(AssetModel.uri)
            .join(AssetEvent, AssetEvent.asset_id == AssetModel.id)
            .where(AssetEvent.source_run_id == dag_run.run_id)
        ).all()
    assert sorted(uris) == [
        "nexmo-numbers-file://test/inventory",
        "nexmo-numbers://export_sqlite/nexmo_numbers_snapshot",
    ]
