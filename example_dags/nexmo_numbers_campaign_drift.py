"""Daily drift check of a campaign: has anyone changed its numbers by hand?

Read-only (``NexmoCampaignDriftOperator``): compares the account with what the campaign wants and with the
ledger (docs/ledger.md), and reports a readable table: numbers reconfigured or released by hand, numbers
carrying the campaign's marker that the ledger does not know (bought outside it), a count that is off. With
``on_drift="fail"`` the run fails so that alerting picks it up; ``warn`` logs the table and succeeds.

Until ``webhook_url`` is set, a run skips at ``check_configuration``. Connection: ``nexmo_numbers_default``.
"""

from __future__ import annotations

import datetime

from airflow.providers.common.compat.sdk import AirflowSkipException
from airflow.sdk import DAG, Param, task

from airflow_provider_nexmo_numbers.operators.drift import NexmoCampaignDriftOperator

with DAG(
    dag_id="nexmo_numbers_campaign_drift",
    description="Daily read-only check: the campaign's numbers against the desired state and the ledger",
    schedule="0 7 * * *",
    start_date=datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc),
    catchup=False,
    tags=["nexmo-numbers", "example", "campaign", "ledger"],
    params={
        "country": Param("GB", type="string", pattern="^[A-Z]{2}$"),
        "number_type": Param("mobile-lvn", enum=["landline", "landline-toll-free", "mobile-lvn"]),
        "count": Param(3, type="integer", minimum=0, maximum=1000),
        "webhook_url": Param(
            "", type="string", description="the campaign's inbound SMS webhook (its marker)"
        ),
        "on_drift": Param("fail", enum=["warn", "fail"]),
    },
) as dag:

    @task
    def check_configuration(params: dict | None = None) -> None:
        if not str((params or {}).get("webhook_url") or "").strip():
            raise AirflowSkipException("Campaign not configured: set webhook_url. Nothing was checked.")

    check_configuration() >> NexmoCampaignDriftOperator(
        task_id="check_drift",
        selector={
            "country": "{{ params.country }}",
            "type": "{{ params.number_type }}",
            "mo_http_url": "{{ params.webhook_url }}",
        },
        count="{{ params.count }}",
        on_drift="{{ params.on_drift }}",
    )
