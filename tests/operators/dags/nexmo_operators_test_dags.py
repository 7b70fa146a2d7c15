"""DAGs the operator tests run with `dag.test()`: mapped buy/update over a search, and a buy that is retried.

Values that differ per test run (webhook URL, criteria) come in through `params`/`dag_run.conf` templates, so
the file parses without the sandbox and exercises rendering too.
"""

from __future__ import annotations

import datetime

from airflow.sdk import DAG

from airflow_provider_nexmo_numbers.operators.buy import NexmoBuyNumberOperator
from airflow_provider_nexmo_numbers.operators.cancel import NexmoCancelNumberOperator
from airflow_provider_nexmo_numbers.operators.list_owned import NexmoListOwnedNumbersOperator
from airflow_provider_nexmo_numbers.operators.search import NexmoSearchNumbersOperator
from airflow_provider_nexmo_numbers.operators.update import NexmoUpdateNumberOperator

START = datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc)

with DAG(
    "nexmo_operators_mapped",
    schedule=None,
    start_date=START,
    catchup=False,
    params={"country": "NL", "webhook": "", "budget": "100"},
):
    search = NexmoSearchNumbersOperator(
        task_id="search",
        country="{{ params.country }}",
        type="mobile-lvn",
        features=["SMS", "VOICE"],
        limit=3,
        max_monthly_cost="{{ params.budget }}",
    )
    buy = NexmoBuyNumberOperator.partial(
        task_id="buy", country="{{ params.country }}", max_monthly_cost="{{ params.budget }}"
    ).expand(msisdn=search.output.map(lambda number: number["msisdn"]))
    configure = NexmoUpdateNumberOperator.partial(
        task_id="configure", country="{{ params.country }}", mo_http_url="{{ params.webhook }}"
    ).expand(msisdn=buy.output.map(lambda purchase: purchase["msisdn"]))
    listed = NexmoListOwnedNumbersOperator(
        task_id="list", country="{{ params.country }}", max_xcom_numbers=10
    )
    release_plan = NexmoCancelNumberOperator.partial(
        task_id="release_dry_run", country="NL", dry_run=True
    ).expand(msisdn=configure.output.map(lambda number: number["msisdn"]))
    configure >> listed

with DAG(
    "nexmo_operators_retry",
    schedule=None,
    start_date=START,
    catchup=False,
    params={"features": "VOICE"},
):
    NexmoBuyNumberOperator(
        task_id="buy_by_criteria",
        country="NL",
        type="mobile-lvn",
        features="{{ params.features }}",
        retries=2,
        retry_delay=datetime.timedelta(seconds=0),
    )
