"""The Celery deployment test's DAG: a mapped campaign, six buys by criteria in the nexmo_numbers pool.

Six task instances each buy one GB mobile number matching the criteria, two at a time (the pool), retried
after a dead worker. The ledger (connection nexmo_numbers_ledger, PostgreSQL) keeps two instances from buying
the same number and lets a retry find what its killed try bought instead of buying another.
"""

from __future__ import annotations

import datetime

from airflow.sdk import DAG

from airflow_provider_nexmo_numbers.operators.buy import NexmoBuyNumberOperator

NUMBERS = 6

with DAG(
    dag_id="nexmo_deploy_mapped_campaign",
    schedule=None,
    start_date=datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc),
    catchup=False,
    tags=["nexmo-numbers", "test"],
):
    NexmoBuyNumberOperator.partial(
        task_id="buy",
        country="GB",
        type="mobile-lvn",
        max_monthly_cost="3.00",
        pool="nexmo_numbers",
        retries=3,
        retry_delay=datetime.timedelta(seconds=2),
    ).expand(features=["SMS"] * NUMBERS)
