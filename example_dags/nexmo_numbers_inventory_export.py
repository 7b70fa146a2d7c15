"""Nightly inventory export, and a report DAG that runs whenever a new export lands.

``nexmo_numbers_inventory_export`` (nightly) snapshots every owned number and its configuration twice:
into the SQL table ``nexmo_owned_numbers`` of the ``nexmo_numbers_warehouse`` connection (any common.sql
database: SQLite, PostgreSQL...; rows are replaced per snapshot, so a re-run never duplicates) and into a
Parquet file (written to a temporary name and renamed, so readers never see half a file). Both tasks page
through the account with constant memory, however big it is.

Each export task declares an Asset outlet. ``nexmo_numbers_inventory_report`` is scheduled on the SQL
table's Asset: Airflow starts it after every successful export, with no schedule of its own. It counts the
numbers per country and type and adds a monthly cost.

About that cost: the API's listing of owned numbers carries **no price**; only search results do. The report
therefore *estimates* it from the median price of numbers of the same country and type currently on offer,
and says so in its columns. Use your invoices (or the costs a campaign's ensure task returns) where exact
figures matter.

The Parquet file is named after the run (``dag_run.run_after``, which scheduled, CLI/REST-triggered runs
without a logical date, UI runs and ``dag.test()`` all have) and lands in ``export_dir``: by default
``$AIRFLOW_HOME/nexmo_numbers_exports`` of the worker that runs the task; on a cluster set an object-storage
URL (``s3://bucket/exports``) so the file does not stay on whichever worker ran it (docs/deployment.md).
An account with no numbers exports an empty snapshot, and the report says so instead of failing.

Parameters are Airflow Params, rendered at run time; parsing this file makes no request and reads no
connection. Connections: ``nexmo_numbers_default`` and ``nexmo_numbers_warehouse``.
"""

from __future__ import annotations

import datetime

from airflow.sdk import DAG, Asset, Param, task

from airflow_provider_nexmo_numbers.transfers.export_dir import default_export_dir
from airflow_provider_nexmo_numbers.transfers.to_file import NexmoNumbersToFileOperator
from airflow_provider_nexmo_numbers.transfers.to_sql import NexmoNumbersToSqlOperator

WAREHOUSE_CONN_ID = "nexmo_numbers_warehouse"
TABLE = "nexmo_owned_numbers"
# The URI the SQL export would derive by itself; spelled out because the report DAG schedules on it.
INVENTORY_TABLE = Asset(f"nexmo-numbers://{WAREHOUSE_CONN_ID}/{TABLE}")
# The Parquet path is a run-time parameter, so the file's Asset gets a stable name instead of its path.
INVENTORY_PARQUET = Asset("nexmo-numbers://files/owned_numbers.parquet")

START = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
POOL = "nexmo_numbers"


with DAG(
    dag_id="nexmo_numbers_inventory_export",
    description="Nightly snapshot of every owned number into SQL and Parquet",
    schedule="30 2 * * *",  # nightly, 02:30 UTC
    start_date=START,
    catchup=False,
    tags=["nexmo-numbers", "example", "export"],
    # A nightly snapshot is read-only and replaces itself on a re-run: retrying a hiccup is always safe.
    default_args={"retries": 2, "retry_delay": datetime.timedelta(minutes=1)},
    user_defined_macros={"default_export_dir": default_export_dir},
    params={
        "export_dir": Param(
            "",
            type="string",
            description="absolute directory or object-storage URL (s3://...); empty: "
            "$AIRFLOW_HOME/nexmo_numbers_exports on the worker",
        ),
    },
):
    NexmoNumbersToSqlOperator(
        task_id="export_to_sql",
        sql_conn_id=WAREHOUSE_CONN_ID,
        table=TABLE,
        outlets=[INVENTORY_TABLE],
        pool=POOL,
    )
    NexmoNumbersToFileOperator(
        task_id="export_to_parquet",
        path=(
            "{{ params.export_dir or default_export_dir() }}/"
            "owned_numbers_{{ dag_run.run_after | ts_nodash }}.parquet"
        ),
        outlets=[INVENTORY_PARQUET],
        pool=POOL,
    )


with DAG(
    dag_id="nexmo_numbers_inventory_report",
    description="Numbers and estimated monthly cost per country, after every inventory export",
    schedule=[INVENTORY_TABLE],
    start_date=START,
    catchup=False,
    tags=["nexmo-numbers", "example", "export"],
):

    @task
    def count_numbers(triggering_asset_events=None) -> list[dict]:
        """Numbers per country and type in the newest snapshot of the table."""
        from airflow.providers.common.compat.sdk import BaseHook

        # The snapshot id defaults to the exporting run's id: use the run that triggered this one if known,
        # else the newest snapshot in the table (a manual run, or dag.test()).
        # Not `(events or {}).get(asset)`: Airflow 3.1 cannot hash an Asset; its accessor looks up by key.
        events = triggering_asset_events.get(INVENTORY_TABLE, []) if triggering_asset_events else []
        snapshot = events[-1].source_run_id if events else None
        db = BaseHook.get_connection(WAREHOUSE_CONN_ID).get_hook()
        if snapshot is None:
            newest = db.get_first(
                f"SELECT snapshot_id FROM {TABLE} ORDER BY snapshot_date DESC, snapshot_id DESC LIMIT 1"
            )
            if newest is None:  # the account had no numbers at any export (or none ran yet)
                print(f"No numbers in {TABLE}: the report is empty")
                return []
            snapshot = newest[0]
        rows = db.get_records(
            f"SELECT country, type, COUNT(*) FROM {TABLE} WHERE snapshot_id = {db.placeholder} "
            "GROUP BY country, type ORDER BY country, type",
            parameters=(snapshot,),
        )
        print(f"Snapshot {snapshot}: {sum(r[2] for r in rows)} numbers")
        return [{"country": c, "type": t, "numbers": n, "snapshot_id": snapshot} for c, t, n in rows]

    @task(pool=POOL)
    def estimate_monthly_cost(groups: list[dict]) -> list[dict]:
        """Add an estimated monthly cost per group: median current offer price of that country and type."""
        from decimal import Decimal
        from statistics import median

        from airflow_provider_nexmo_numbers.hooks.nexmo_numbers import NexmoNumbersHook

        hook = NexmoNumbersHook()
        report = []
        for group in groups:
            offers = hook.search_available_numbers(group["country"], type=group["type"], size=20).numbers
            price = median(o.cost for o in offers) if offers else None
            total = None if price is None else (price * group["numbers"]).quantize(Decimal("0.01"))
            report.append(
                {
                    **group,
                    "est_eur_per_number": None if price is None else str(price),
                    "est_eur_per_month": None if total is None else str(total),
                }
            )
        lines = [f"{'COUNTRY':8}{'TYPE':20}{'NUMBERS':>8}{'EST. EUR/MONTH':>16}"]
        lines += [
            f"{r['country']:8}{r['type']:20}{r['numbers']:>8}{r['est_eur_per_month'] or '?':>16}"
            for r in report
        ]
        print("\n".join(lines))
        return report

    estimate_monthly_cost(count_numbers())
