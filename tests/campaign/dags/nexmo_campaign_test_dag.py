"""A campaign as users write it: ensure numbers, then release exactly what ensure reported.

`adopt_unconfigured=False` on purpose: when the first try dies between a purchase and its configuration, only
the purchase journal in Airflow's task state store can make the retry recognise that number.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG

from airflow_provider_nexmo_numbers.operators.ensure import NexmoEnsureNumbersOperator
from airflow_provider_nexmo_numbers.operators.release import NexmoReleaseNumbersOperator

with DAG(
    dag_id="nexmo_campaign_test",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    params={"hook": "https://hooks.example.com/placeholder", "count": 3},
) as dag:
    ensure = NexmoEnsureNumbersOperator(
        task_id="ensure_numbers",
        selector={"country": "GB", "type": "mobile-lvn", "mo_http_url": "{{ params.hook }}"},
        count="{{ params.count }}",
        max_monthly_cost="3",
        monthly_budget="10",
        adopt_unconfigured=False,
        retries=2,
        retry_delay=timedelta(seconds=0),
    )
    release = NexmoReleaseNumbersOperator(
        task_id="release_numbers",
        msisdns=ensure.output,
        selector={"mo_http_url": "{{ params.hook }}"},
        max_release="{{ params.count }}",
    )
    ensure >> release
