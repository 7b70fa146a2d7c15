"""End of a campaign: release its numbers, once, at the campaign's end date. Dry run first, then release
exactly what the dry run listed, within a cap.

Releasing a number is hard to undo (someone else may rent it the next minute), so:

1. ``plan_release`` (``dry_run=True``) lists the numbers the selector matches and cancels nothing; read it
   in the task log or XCom.
2. ``release`` cancels only the numbers the dry run listed (``msisdns``) that still match the selector, and
   fails before cancelling anything if they are more than ``max_release``. The selector is the one of
   ``nexmo_numbers_weekly_campaign`` (country + the campaign's webhook URL as marker), so the account's other
   numbers are never touched. Re-running is safe: numbers already released are reported, not cancelled again.

Set ``CAMPAIGN_END`` to the campaign's last day and ``CAMPAIGN["webhook_url"]`` to the campaign's marker
(and pause or delete the weekly campaign DAG then). The schedule is that one instant (an events timetable,
no catchup): the DAG runs once, at ``CAMPAIGN_END``; an end date already past when it is unpaused starts
nothing (trigger it by hand then). A run without a configured marker skips at ``check_configuration`` and
says why. Both release tasks run in the ``nexmo_numbers`` pool, one at a time.
Parameters are Airflow Params, rendered when the tasks run. Connection: ``nexmo_numbers_default``.
"""

from __future__ import annotations

import datetime

from airflow.providers.common.compat.sdk import AirflowSkipException
from airflow.sdk import DAG, Param, task
from airflow.timetables.events import EventsTimetable

from airflow_provider_nexmo_numbers.operators.release import NexmoReleaseNumbersOperator

CAMPAIGN_END = datetime.datetime(2027, 6, 30, 18, 0, tzinfo=datetime.timezone.utc)  # set yours
# The campaign's marker; empty means "not configured" and every run skips.
CAMPAIGN = {"webhook_url": ""}  # e.g. https://hooks.example.com/nexmo/campaign-1/inbound-sms
POOL = "nexmo_numbers"

# The same selector as the campaign's ensure task: what makes a number one of the campaign's.
CAMPAIGN_SELECTOR = {"country": "{{ params.country }}", "mo_http_url": "{{ params.webhook_url }}"}

with DAG(
    dag_id="nexmo_numbers_campaign_release",
    description="Release the campaign's numbers at its end: dry run, then release within a cap",
    schedule=EventsTimetable(event_dates=[CAMPAIGN_END], description="at the campaign's end"),
    start_date=datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc),  # manual runs work before the end
    catchup=False,
    max_active_runs=1,
    tags=["nexmo-numbers", "example", "campaign"],
    params={
        "country": Param("GB", type="string", pattern="^[A-Z]{2}$"),
        "webhook_url": Param(
            CAMPAIGN["webhook_url"], type="string", description="the campaign's webhook URL (its marker)"
        ),
        "max_release": Param(5, type="integer", minimum=0, description="most numbers this run may release"),
    },
) as dag:

    @task
    def check_configuration(params: dict | None = None) -> None:
        """Skip the run while the marker is unset: an empty marker must never select numbers."""
        if not str((params or {}).get("webhook_url") or "").strip():
            raise AirflowSkipException(
                "Release not configured: set CAMPAIGN['webhook_url'] in this DAG file, or trigger with "
                '-c \'{"webhook_url": "https://..."}\'. Nothing was released.'
            )

    plan_release = NexmoReleaseNumbersOperator(
        task_id="plan_release",
        selector=CAMPAIGN_SELECTOR,
        max_release="{{ params.max_release }}",
        dry_run=True,
        pool=POOL,
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
        pool=POOL,
        max_active_tis_per_dag=1,
    )

    check_configuration() >> plan_release >> release
