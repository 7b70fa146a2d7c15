"""Buy N numbers of one kind with a mapped buy task: N task instances, possibly on N workers, at once.

Every instance searches with the same criteria, so they all see the same cheapest number first. The ledger
(docs/ledger.md) makes that safe: each instance claims a number before buying it, so the N instances buy N
different numbers and none reports another's purchase as its own; a retried instance finds what its earlier
try bought instead of buying again. On a Celery or Kubernetes deployment, create the ``nexmo_numbers_ledger``
connection (PostgreSQL) first: without it the buy tasks fail before spending anything.

Triggered by hand (``airflow dags trigger nexmo_numbers_mapped_buy -c '{"numbers": 3}'``); parsing this file
makes no request and reads no connection. Connection: ``nexmo_numbers_default``.
"""

from __future__ import annotations

import datetime

from airflow.sdk import DAG, Param, task

from airflow_provider_nexmo_numbers.operators.buy import NexmoBuyNumberOperator

with DAG(
    dag_id="nexmo_numbers_mapped_buy",
    description="Buy N numbers of one kind at once with a mapped buy task; the ledger keeps them distinct",
    schedule=None,
    start_date=datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc),
    catchup=False,
    tags=["nexmo-numbers", "example", "ledger"],
    params={
        "country": Param("GB", type="string", pattern="^[A-Z]{2}$"),
        "number_type": Param("mobile-lvn", enum=["landline", "landline-toll-free", "mobile-lvn"]),
        "features": Param("SMS", type="string", description="at least these; comma separated"),
        "numbers": Param(3, type="integer", minimum=1, maximum=20, description="how many to buy"),
        "max_monthly_cost": Param("3.00", type="string", description="EUR, most one number may cost"),
    },
) as dag:

    @task
    def one_slot_per_number(params: dict | None = None) -> list[str]:
        """One mapped buy instance per number wanted (each buys in the campaign's country)."""
        params = params or {}
        return [params["country"]] * int(params["numbers"])

    buy = NexmoBuyNumberOperator.partial(
        task_id="buy",
        type="{{ params.number_type }}",
        features="{{ params.features }}",
        max_monthly_cost="{{ params.max_monthly_cost }}",
        retries=2,
        retry_delay=datetime.timedelta(seconds=30),
    ).expand(country=one_slot_per_number())

    @task
    def report(bought: list[dict]) -> dict:
        """What the instances bought: distinct numbers, the monthly total."""
        msisdns = [item["msisdn"] for item in bought]
        if len(set(msisdns)) != len(msisdns):
            raise ValueError(f"two buy instances report the same number: {msisdns}")
        total = sum(float(item["cost"] or 0) for item in bought)
        return {"msisdns": msisdns, "monthly_cost": f"{total:.2f}"}

    report(buy.output)
