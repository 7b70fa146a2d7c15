"""The DAG the export tests run with `dag.test()`: a nightly SQL snapshot and a Parquet file, both as Assets.

The warehouse connection (`export_sqlite`) and the output folder come from the test (environment and
`dag_run.conf`), so the file parses without a sandbox or a database and exercises template rendering.
"""

from __future__ import annotations

import datetime

from airflow.sdk import DAG, Asset

from airflow_provider_nexmo_numbers.transfers.to_file import NexmoNumbersToFileOperator
from airflow_provider_nexmo_numbers.transfers.to_sql import NexmoNumbersToSqlOperator

NUMBERS_FILE = Asset("nexmo-numbers-file://test/inventory")

with DAG(
    "nexmo_inventory_export",
    schedule=None,
    start_date=datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc),
    catchup=False,
    params={"dir": "/tmp"},
):
    NexmoNumbersToSqlOperator(task_id="to_sql", sql_conn_id="export_sqlite", table="nexmo_numbers_snapshot")
    NexmoNumbersToFileOperator(
        task_id="to_parquet", path="{{ params.dir }}/numbers_{{ ds }}.parquet", asset=NUMBERS_FILE
    )
