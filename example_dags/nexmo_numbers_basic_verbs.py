"""The basic verbs, chained with XCom and dynamic task mapping: search, buy, wait for the webhook, point the
numbers at it, list the account, cancel.

Run it by hand (``schedule=None``) and read the task logs top to bottom: every step logs what it did, and each
step's XCom feeds the next. ``buy``, ``point_at_webhook`` and ``cancel`` are mapped: one task instance per
number found by ``search``, so a retry of one purchase never repeats another.

Everything that varies (country, webhook URL, budget) is an Airflow Param: change it in the trigger form or
with ``airflow dags trigger nexmo_numbers_basic_verbs -c '{"webhook_url": "https://...", "country": "NL"}'``.
``webhook_url`` has no default on purpose: a trigger without it is refused at once with a message naming
it, instead of a run that waits on a placeholder URL. Templates are rendered when a task runs, so parsing
this file touches neither the network nor a connection. The mapped API tasks run in the ``nexmo_numbers``
pool, at most two at a time. Connection: ``nexmo_numbers_default``.
"""

from __future__ import annotations

import datetime

from airflow.sdk import DAG, Param

from airflow_provider_nexmo_numbers.operators.buy import NexmoBuyNumberOperator
from airflow_provider_nexmo_numbers.operators.cancel import NexmoCancelNumberOperator
from airflow_provider_nexmo_numbers.operators.list_owned import NexmoListOwnedNumbersOperator
from airflow_provider_nexmo_numbers.operators.search import NexmoSearchNumbersOperator
from airflow_provider_nexmo_numbers.operators.update import NexmoUpdateNumberOperator
from airflow_provider_nexmo_numbers.sensors.webhook_ready import NexmoWebhookReadySensor

# Mapped API tasks share the API quota: the pool bounds them across the deployment, the cap per DAG.
API_TASK = {"pool": "nexmo_numbers", "max_active_tis_per_dag": 2}


def number_key(number: dict) -> dict:
    """Keep only what identifies a number: the kwargs of one mapped update or cancel task."""
    return {"country": number["country"], "msisdn": number["msisdn"]}


def offer_key(number: dict) -> dict:
    """The kwargs of one mapped buy: the type too, so the buy's fresh price check is a single search."""
    return {**number_key(number), "type": number["type"]}


with DAG(
    dag_id="nexmo_numbers_basic_verbs",
    description="Search, buy, configure, list and cancel numbers, one mapped task per number",
    schedule=None,
    start_date=datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc),
    catchup=False,
    tags=["nexmo-numbers", "example"],
    params={
        "country": Param("GB", type="string", pattern="^[A-Z]{2}$", description="ISO country code"),
        "number_type": Param("mobile-lvn", enum=["landline", "landline-toll-free", "mobile-lvn"]),
        "features": Param("SMS", type="string", description="comma separated: SMS, VOICE, MMS"),
        "count": Param(2, type="integer", minimum=1, maximum=10, description="numbers to buy"),
        "max_monthly_cost": Param("3.00", type="string", description="EUR per number and month"),
        # Required (no default): the trigger form and the REST API refuse a run without it.
        "webhook_url": Param(
            type="string", minLength=1, description="inbound SMS webhook the numbers are pointed at"
        ),
    },
) as dag:
    # XCom: a list of {"country", "msisdn", "type", "features", "cost", ...} dicts, in the API's order.
    search = NexmoSearchNumbersOperator(
        task_id="search",
        country="{{ params.country }}",
        type="{{ params.number_type }}",
        features="{{ params.features }}",
        limit="{{ params.count }}",
        max_monthly_cost="{{ params.max_monthly_cost }}",
        pool=API_TASK["pool"],
    )

    # One buy per search result. The cost is checked again against a fresh offer just before buying.
    buy = NexmoBuyNumberOperator.partial(
        task_id="buy", max_monthly_cost="{{ params.max_monthly_cost }}", **API_TASK
    ).expand_kwargs(search.output.map(offer_key))

    # The API refuses an inbound-SMS URL that does not answer yet, so wait for it without holding a worker
    # slot: the sensor defers to the triggerer between polls.
    wait_for_webhook = NexmoWebhookReadySensor(
        task_id="wait_for_webhook",
        url="{{ params.webhook_url }}",
        deferrable=True,
        poke_interval=2,
        timeout=15 * 60,
    )

    # Update is read-merge-write-read back: settings not named here are kept.
    point_at_webhook = NexmoUpdateNumberOperator.partial(
        task_id="point_at_webhook", mo_http_url="{{ params.webhook_url }}", **API_TASK
    ).expand_kwargs(buy.output.map(number_key))

    list_owned = NexmoListOwnedNumbersOperator(
        task_id="list_owned", country="{{ params.country }}", max_xcom_numbers=100, pool=API_TASK["pool"]
    )

    # Give the numbers back (a demo should not keep paying). Cancelling a number already gone is success.
    cancel = NexmoCancelNumberOperator.partial(task_id="cancel", **API_TASK).expand_kwargs(
        point_at_webhook.output.map(number_key)
    )

    search >> buy >> wait_for_webhook >> point_at_webhook >> list_owned >> cancel
