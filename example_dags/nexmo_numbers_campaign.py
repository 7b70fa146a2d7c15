"""A weekly provisioning campaign: "every Monday make sure N numbers of this kind exist, point at our
webhook, and never cost more than the budget".

1. ``wait_for_campaign_webhook``: the campaign's inbound-SMS webhook must answer before numbers can point at
   it (the API checks it). Deferrable: the wait runs in the triggerer, no worker slot is held.
2. ``ensure_numbers``: plan, then apply. It reads the account, keeps the campaign's numbers that are already
   right, fixes or adopts what it can for free, and only then buys the cheapest matching numbers that fit
   ``max_monthly_cost`` (per number) and ``monthly_budget`` (all campaign numbers). A re-run on an account
   that already matches makes no write request. If the budget or the pool cannot give N numbers, the task
   fails before spending anything (``on_shortfall="fail"``). The plan is in the task log and the XCom.
3. ``export_inventory``: a CSV snapshot of every owned number, for the people who pay the bill.

The campaign recognises its numbers by the ``selector``: identity criteria (country, type, features) plus a
marker only its numbers carry, here the webhook URL. ``nexmo_numbers_campaign_release`` releases the same
selector when the campaign ends. Parameters are Airflow Params, rendered when the tasks run (parsing this file
makes no request and reads no connection). Connection: ``nexmo_numbers_default``.
"""

from __future__ import annotations

import datetime

from airflow.sdk import DAG, Param

from airflow_provider_nexmo_numbers.operators.ensure import NexmoEnsureNumbersOperator
from airflow_provider_nexmo_numbers.sensors.webhook_ready import NexmoWebhookReadySensor
from airflow_provider_nexmo_numbers.transfers.to_file import NexmoNumbersToFileOperator

with DAG(
    dag_id="nexmo_numbers_weekly_campaign",
    description="Ensure the campaign's numbers exist and point at its webhook, within budget; export",
    schedule="0 6 * * 1",  # Mondays 06:00 UTC
    start_date=datetime.datetime(2026, 1, 5, tzinfo=datetime.timezone.utc),
    catchup=False,
    max_active_runs=1,  # two runs planning against the same account at once could both buy
    tags=["nexmo-numbers", "example", "campaign"],
    params={
        "country": Param("GB", type="string", pattern="^[A-Z]{2}$"),
        "number_type": Param("mobile-lvn", enum=["landline", "landline-toll-free", "mobile-lvn"]),
        "features": Param("SMS", type="string", description="at least these; comma separated"),
        "count": Param(3, type="integer", minimum=0, description="numbers the campaign wants"),
        "webhook_url": Param(
            "https://hooks.example.com/nexmo/campaign-1/inbound-sms",
            type="string",
            description="the campaign's inbound SMS webhook; also how the campaign recognises its numbers",
        ),
        "sip_uri": Param("sip:campaign-1@pbx.example.com", type="string", description="voice routing"),
        "max_monthly_cost": Param("3.00", type="string", description="EUR, most a new number may cost"),
        "monthly_budget": Param("10.00", type="string", description="EUR, all campaign numbers together"),
        "export_dir": Param("/tmp/nexmo_numbers_exports", type="string", description="absolute directory"),
    },
) as dag:
    wait_for_campaign_webhook = NexmoWebhookReadySensor(
        task_id="wait_for_campaign_webhook",
        url="{{ params.webhook_url }}",
        deferrable=True,
        poke_interval=2,
        timeout=6 * 60 * 60,
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
        retries=2,
        retry_delay=datetime.timedelta(minutes=1),
    )

    export_inventory = NexmoNumbersToFileOperator(
        task_id="export_inventory",
        path="{{ params.export_dir }}/campaign_inventory_{{ ds_nodash }}.csv",
    )

    wait_for_campaign_webhook >> ensure_numbers >> export_inventory
