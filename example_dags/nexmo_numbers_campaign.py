"""A weekly provisioning campaign: "every Monday make sure N numbers of this kind exist, point at our
webhook, and never cost more than the budget".

1. ``wait_for_campaign_webhook``: the campaign's inbound-SMS webhook must answer before numbers can point at
   it (the API checks it). Deferrable: the wait runs in the triggerer, no worker slot is held.
2. ``ensure_numbers``: plan, then apply. It reads the account, keeps the campaign's numbers that are already
   right, fixes or adopts what it can for free, and only then buys the cheapest matching numbers that fit
   ``max_monthly_cost`` (per number) and ``monthly_budget`` (all campaign numbers). A re-run on an account
   that already matches makes no write request. If the budget or the pool cannot give N numbers, the task
   fails before spending anything (``on_shortfall="fail"``). The plan is in the task log and the XCom.
3. ``export_inventory``: a CSV snapshot of every owned number, for the people who pay the bill, named after
   the run (``dag_run.run_after``, which every run has: scheduled, triggered from the CLI/REST API without a
   logical date, from the UI, or by ``dag.test()``).

Configure it in ``CAMPAIGN`` below (or per run, with ``airflow dags trigger -c '{...}'``). Until the webhook
URL and the SIP URI are set, every run skips at ``check_configuration`` and says why: unpausing the DAG never
starts a run that cannot succeed. The tasks that call the API run in the ``nexmo_numbers`` pool (create it:
``airflow pools set nexmo_numbers 2 "Nexmo Numbers API"``; docs/deployment.md sizes it from the API quota).

The campaign recognises its numbers by the ``selector``: identity criteria (country, type, features) plus a
marker only its numbers carry, here the webhook URL. ``nexmo_numbers_campaign_release`` releases the same
selector when the campaign ends. Parameters are Airflow Params, rendered when the tasks run (parsing this file
makes no request and reads no connection). Connection: ``nexmo_numbers_default``.
"""

from __future__ import annotations

import datetime

from airflow.providers.common.compat.sdk import AirflowSkipException
from airflow.sdk import DAG, Param, task

from airflow_provider_nexmo_numbers.operators.ensure import NexmoEnsureNumbersOperator
from airflow_provider_nexmo_numbers.sensors.webhook_ready import NexmoWebhookReadySensor
from airflow_provider_nexmo_numbers.transfers.export_dir import default_export_dir
from airflow_provider_nexmo_numbers.transfers.to_file import NexmoNumbersToFileOperator

# Your campaign. Empty strings mean "not configured": scheduled runs skip until they are set.
CAMPAIGN = {
    "webhook_url": "",  # e.g. https://hooks.example.com/nexmo/campaign-1/inbound-sms
    "sip_uri": "",  # e.g. sip:campaign-1@pbx.example.com
}
REQUIRED = ("webhook_url", "sip_uri")
POOL = "nexmo_numbers"


with DAG(
    dag_id="nexmo_numbers_weekly_campaign",
    description="Ensure the campaign's numbers exist and point at its webhook, within budget; export",
    schedule="0 6 * * 1",  # Mondays 06:00 UTC
    start_date=datetime.datetime(2026, 1, 5, tzinfo=datetime.timezone.utc),
    catchup=False,  # unpausing runs the latest Monday only, never a backlog
    max_active_runs=1,  # two runs planning against the same account at once could both buy
    tags=["nexmo-numbers", "example", "campaign"],
    user_defined_macros={"default_export_dir": default_export_dir},
    params={
        "country": Param("GB", type="string", pattern="^[A-Z]{2}$"),
        "number_type": Param("mobile-lvn", enum=["landline", "landline-toll-free", "mobile-lvn"]),
        "features": Param("SMS", type="string", description="at least these; comma separated"),
        "count": Param(3, type="integer", minimum=0, description="numbers the campaign wants"),
        "webhook_url": Param(
            CAMPAIGN["webhook_url"],
            type="string",
            description="the campaign's inbound SMS webhook; also how the campaign recognises its numbers",
        ),
        "sip_uri": Param(CAMPAIGN["sip_uri"], type="string", description="voice routing, e.g. sip:x@pbx"),
        "max_monthly_cost": Param("3.00", type="string", description="EUR, most a new number may cost"),
        "monthly_budget": Param("10.00", type="string", description="EUR, all campaign numbers together"),
        "export_dir": Param(
            "",
            type="string",
            description="absolute directory or object-storage URL (s3://...); empty: "
            "$AIRFLOW_HOME/nexmo_numbers_exports on the worker",
        ),
    },
) as dag:

    @task
    def check_configuration(params: dict | None = None) -> None:
        """Skip the whole run, saying what to set, while the campaign is not configured."""
        missing = [name for name in REQUIRED if not str((params or {}).get(name) or "").strip()]
        if missing:
            raise AirflowSkipException(
                f"Campaign not configured: set {', '.join(missing)} in CAMPAIGN in this DAG file, or trigger "
                f'with -c \'{{"webhook_url": "https://...", "sip_uri": "sip:..."}}\'. Nothing was done.'
            )

    wait_for_campaign_webhook = NexmoWebhookReadySensor(
        task_id="wait_for_campaign_webhook",
        url="{{ params.webhook_url }}",
        deferrable=True,
        poke_interval=5,
        timeout=60 * 60,  # a DNS typo or a 403 fails after 3 attempts; this bounds the rest
    )

    ensure_numbers = NexmoEnsureNumbersOperator(
        task_id="ensure_numbers",
        selector={
            "country": "{{ params.country }}",
            "type": "{{ params.number_type }}",
            "features": "{{ params.features }}",
            "mo_http_url": "{{ params.webhook_url }}",  # the marker
        },
        count="{{ params.count }}",
        configuration={"voice_callback_type": "sip", "voice_callback_value": "{{ params.sip_uri }}"},
        max_monthly_cost="{{ params.max_monthly_cost }}",
        monthly_budget="{{ params.monthly_budget }}",
        # The listing of owned numbers carries no price. Counting each campaign number the campaign already
        # owns at the per-number cap keeps the budget a hard upper bound across weekly runs.
        assumed_cost_per_owned_number="{{ params.max_monthly_cost }}",
        on_shortfall="fail",
        pool=POOL,
        max_active_tis_per_dag=1,  # never two plans applying to one account at once
        retries=2,
        retry_delay=datetime.timedelta(minutes=1),
    )

    export_inventory = NexmoNumbersToFileOperator(
        task_id="export_inventory",
        path=(
            "{{ params.export_dir or default_export_dir() }}/"
            "campaign_inventory_{{ dag_run.run_after | ts_nodash }}.csv"
        ),
        pool=POOL,
    )

    check_configuration() >> wait_for_campaign_webhook >> ensure_numbers >> export_inventory
