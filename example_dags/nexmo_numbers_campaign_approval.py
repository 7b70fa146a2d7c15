"""Plan, approve, apply: a campaign whose spend needs a person's approval above a threshold.

As Terraform's ``plan -out`` and ``apply``:

1. ``plan``: the ensure operator's dry run: the plan (what it would keep, fix, adopt and buy, at which
   prices) in the task log and the XCom, nothing written.
2. ``needs_approval``: plans whose first month (monthly cost of the new numbers plus their initial prices)
   exceeds ``approval_threshold`` go to ``approve``; cheaper ones straight on (``below_threshold``).
3. ``approve``: Airflow's own human-in-the-loop ``ApprovalOperator`` (standard provider, Airflow >= 3.1): a
   person approves or rejects in the Airflow UI, seeing the plan. Rejecting skips ``apply``: nothing bought.
   On Airflow 3.0 (no such operator) plans above the threshold stop there.
4. ``apply``: applies exactly the saved plan. If the account or a price changed since ``plan`` so that the
   plan no longer holds, it refuses with the list of differences and buys nothing: trigger a new run to plan
   again.

Until ``webhook_url`` is set, a run skips at ``check_configuration``. Connection: ``nexmo_numbers_default``;
ledger: docs/ledger.md.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from airflow.providers.common.compat.sdk import AirflowSkipException
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG, Param, task

from airflow_provider_nexmo_numbers.operators.ensure import NexmoEnsureNumbersOperator

with DAG(
    dag_id="nexmo_numbers_campaign_approval",
    description="Plan a campaign, ask a person above a spend threshold, then apply exactly the plan",
    schedule=None,
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
        "max_monthly_cost": Param("3.00", type="string", description="EUR, most a new number may cost"),
        "monthly_budget": Param("10.00", type="string", description="EUR, all campaign numbers together"),
        "approval_threshold": Param(
            "5.00", type="string", description="EUR: first months above need approval"
        ),
    },
) as dag:

    @task
    def check_configuration(params: dict | None = None) -> None:
        if not str((params or {}).get("webhook_url") or "").strip():
            raise AirflowSkipException(
                'Campaign not configured: trigger with -c \'{"webhook_url": "https://..."}\''
            )

    campaign = {
        "selector": {
            "country": "{{ params.country }}",
            "type": "{{ params.number_type }}",
            "mo_http_url": "{{ params.webhook_url }}",
        },
        "count": "{{ params.count }}",
        "max_monthly_cost": "{{ params.max_monthly_cost }}",
        "monthly_budget": "{{ params.monthly_budget }}",
    }
    plan = NexmoEnsureNumbersOperator(task_id="plan", dry_run=True, **campaign)

    @task.branch
    def needs_approval(planned: dict, params: dict | None = None) -> str:
        first_month = Decimal(planned["plan"]["first_month_cost"])
        threshold = Decimal(str((params or {})["approval_threshold"]))
        return "approve" if first_month > threshold else "below_threshold"

    below_threshold = EmptyOperator(task_id="below_threshold")
    try:
        from airflow.providers.standard.operators.hitl import ApprovalOperator
    except ImportError:  # Airflow < 3.1 has no human-in-the-loop operators: plans above the threshold stop
        approve = EmptyOperator(task_id="approve")
        gate = [below_threshold]
    else:
        approve = ApprovalOperator(
            task_id="approve",
            subject="Approve a campaign spend of EUR "
            "{{ ti.xcom_pull(task_ids='plan')['plan']['first_month_cost'] }} in its first month",
            body="{{ ti.xcom_pull(task_ids='plan')['plan'] | tojson }}",
            execution_timeout=datetime.timedelta(days=2),
        )
        gate = [below_threshold, approve]

    # Applies exactly the plan the approval was given for, or refuses when it no longer holds.
    apply = NexmoEnsureNumbersOperator(
        task_id="apply", saved_plan=plan.output, trigger_rule="none_failed_min_one_success", **campaign
    )
    check_configuration() >> plan >> needs_approval(plan.output) >> [below_threshold, approve]
    gate >> apply
