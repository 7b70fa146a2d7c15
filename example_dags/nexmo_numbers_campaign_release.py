"""End of a campaign: release its numbers, once, at the campaign's end date. Dry run first, then release
exactly what the dry run listed, within a cap.

Releasing a number is hard to undo (someone else may rent it the next minute), so:

1. ``plan_release`` (``dry_run=True``) lists the numbers the selector matches and cancels nothing; read it
   in the task log or XCom.
2. ``release`` cancels only the numbers the dry run listed (``msisdns``) that still match the selector, and
   fails before cancelling anything if they are more than ``max_release``. The selector is the one of
   ``nexmo_numbers_weekly_campaign`` (country + the campaign's webhook URL as marker), so the account's other
   numbers are never touched. Re-running is safe: numbers already released are reported, not cancelled again.

Set ``CAMPAIGN_END`` to the campaign's last day (and pause or delete the weekly campaign DAG then). The DAG
runs once, at that time; a date already past makes it run as soon as it is unpaused.
Parameters are Airflow Params, rendered when the tasks run. Connection: ``nexmo_numbers_default``.
"""

from __future__ import annotations

import datetime

from airflow.sdk import DAG, Param

from airflow_provider_nexmo_numbers.operators.release import NexmoReleaseNumbersOperator

CAMPAIGN_END = datetime.datetime(2026, 6, 30, 18, 0, tzinfo=datetime.timezone.utc)  # set yours

# The same selector as the campaign's ensure task: what makes a number one of the campaign's.
CAMPAIGN_SELECTOR = {"country": "{{ params.country }}", "mo_http_url": "{{ params.webhook_url }}"}

with DAG(
    dag_id="nexmo_numbers_campaign_release",
    description="Release the campaign's numbers at its end: dry run, then release within a cap",
    schedule="@once",  # runs once, at start_date
    start_date=CAMPAIGN_END,
    catchup=False,
    tags=["nexmo-numbers", "example", "campaign"],
    params={
        "country": Param("GB", type="string", pattern="^[A-Z]{2}$"),
        "webhook_url": Param(
            "https://hooks.example.com/nexmo/campaign-1/inbound-sms",
            type="string",
            description="the campaign's webhook URL (its marker)",
        ),
        "max_release": Param(5, type="integer", minimum=0, description="most numbers this run may release"),
    },
) as dag:
    plan_release = NexmoReleaseNumbersOperator(
        task_id="plan_release",
        selector=CAMPAIGN_SELECTOR,
        max_release="{{ params.max_release }}",
        dry_run=True,
    )

    release = NexmoReleaseNumbersOperator(
        task_id="release",
        # What the dry run listed, as "msisdn,msisdn,..." (empty: release nothing).
        msisdns=(
            "{{ ti.xcom_pull(task_ids='plan_release')['would_release'] "
            "| map(attribute='msisdn') | join(',') }}"
        ),
        selector=CAMPAIGN_SELECTOR,
        max_release="{{ params.max_release }}",
    )

    plan_release >> release
