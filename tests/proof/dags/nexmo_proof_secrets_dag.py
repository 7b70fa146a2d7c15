"""The campaign tests/proof/test_secrets.py runs as Airflow runs tasks for real (LocalExecutor + api-server).

Small on purpose: ensure a few numbers, then list the account. Each task runs in its own supervised process
and writes its own log file, so each fetches its own access token. `careless_logging` is the control: a task
that logs the client secret and its access token outright, as careless user code might; the hook registered
both with Airflow's masker, so its log file must show `***` instead.
"""

from __future__ import annotations

import datetime

from airflow.sdk import DAG, task

from airflow_provider_nexmo_numbers.operators.ensure import NexmoEnsureNumbersOperator
from airflow_provider_nexmo_numbers.operators.list_owned import NexmoListOwnedNumbersOperator

CONN_ID = "nexmo_proof_secrets"

with DAG(
    dag_id="nexmo_proof_secrets",
    schedule=None,
    start_date=datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc),
    catchup=False,
    params={"hook": "https://hooks.example.com/placeholder", "count": 3},
) as dag:
    ensure = NexmoEnsureNumbersOperator(
        task_id="ensure_numbers",
        nexmo_conn_id=CONN_ID,
        selector={"country": "GB", "type": "mobile-lvn", "mo_http_url": "{{ params.hook }}"},
        count="{{ params.count }}",
        max_monthly_cost="5",
        search_limit=100,
    )
    listed = NexmoListOwnedNumbersOperator(task_id="list_numbers", nexmo_conn_id=CONN_ID, max_xcom_numbers=50)

    @task
    def careless_logging() -> None:
        import logging

        from airflow_provider_nexmo_numbers.hooks.nexmo_numbers import NexmoNumbersHook

        client = NexmoNumbersHook(CONN_ID).get_conn()
        log = logging.getLogger("airflow.task")
        log.info("careless: the client secret is %s", client.tokens._client_secret)
        log.info("careless: the access token is %s", client.tokens.get_token())

    ensure >> listed >> careless_logging()
