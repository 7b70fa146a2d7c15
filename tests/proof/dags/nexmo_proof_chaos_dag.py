"""The chaos campaign of tests/proof/test_chaos.py: buy and configure, reconfigure, release, export.

Every task has Airflow retries because under injected faults a task can legitimately fail (a client's retry
budget exhausted, a token revoked twice in a row); what must hold is the end state, whatever tries it took.
Per-run values (the campaign webhook, counts, the warehouse table) come in through `params`, so the file
parses without a sandbox.
"""

from __future__ import annotations

import datetime

from airflow.sdk import DAG, task

from airflow_provider_nexmo_numbers.operators.ensure import NexmoEnsureNumbersOperator
from airflow_provider_nexmo_numbers.operators.release import NexmoReleaseNumbersOperator
from airflow_provider_nexmo_numbers.transfers.to_sql import NexmoNumbersToSqlOperator

RETRIES = {"retries": 4, "retry_delay": datetime.timedelta(seconds=0)}
SELECTOR = {"country": "GB", "type": "mobile-lvn", "mo_http_url": "{{ params.hook }}"}

with DAG(
    dag_id="nexmo_proof_chaos",
    schedule=None,
    start_date=datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc),
    catchup=False,
    params={
        "hook": "https://hooks.example.com/placeholder",
        "count": 50,
        "release": 25,
        "sip_v1": "sip:proof-v1@pbx.example.com",
        "tel_v2": "447700900123",
        "smpp_v2": "proof-v2",
    },
) as dag:
    ensure = NexmoEnsureNumbersOperator(
        task_id="ensure_numbers",
        selector=SELECTOR,
        count="{{ params.count }}",
        configuration={"voice_callback_type": "sip", "voice_callback_value": "{{ params.sip_v1 }}"},
        max_monthly_cost="5",
        search_limit=100,
        **RETRIES,
    )
    reconfigure = NexmoEnsureNumbersOperator(
        task_id="update_numbers",
        selector=SELECTOR,
        count="{{ params.count }}",
        configuration={
            "voice_callback_type": "tel",
            "voice_callback_value": "{{ params.tel_v2 }}",
            "mo_smpp_sys_type": "{{ params.smpp_v2 }}",
        },
        max_monthly_cost="5",
        search_limit=100,
        **RETRIES,
    )

    @task(**RETRIES)
    def pick_release(updated: dict, params: dict | None = None) -> list[str]:
        """The campaign's first `release` numbers by msisdn: what the campaign gives back."""
        assert params is not None
        return sorted(updated["msisdns"])[: int(params["release"])]

    to_release = pick_release(reconfigure.output)
    release = NexmoReleaseNumbersOperator(
        task_id="release_numbers",
        msisdns=to_release,
        selector=SELECTOR,
        max_release="{{ params.release }}",
        **RETRIES,
    )
    export = NexmoNumbersToSqlOperator(
        task_id="export_inventory",
        sql_conn_id="proof_sqlite",
        table="proof_inventory",
        **RETRIES,
    )
    ensure >> reconfigure
    release >> export
