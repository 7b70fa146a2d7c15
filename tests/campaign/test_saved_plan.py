"""Saved plans (Terraform's plan -out / apply): a dry run's plan is applied later only if it still holds."""

from __future__ import annotations

from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_provider_nexmo_numbers.operators.ensure import NexmoEnsureNumbersOperator
from airflow_provider_nexmo_numbers.operators.release import NexmoReleaseNumbersOperator

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def webhook(sandbox) -> str:
    return sandbox.admin.webhook_url("saved-plan", ready_after=0)


def ensure(webhook: str, **kwargs: Any) -> NexmoEnsureNumbersOperator:
    selector = {"country": "GB", "type": "mobile-lvn", "mo_http_url": webhook}
    kwargs.setdefault("count", 2)
    return NexmoEnsureNumbersOperator(task_id="ensure", selector=selector, **kwargs)


def test_apply_buys_exactly_the_saved_plan(sandbox, nexmo_conn, webhook):
    planned = ensure(webhook, dry_run=True).execute({})
    assert sandbox.admin.stats()["writes"] == 0

    applied = ensure(webhook, saved_plan=planned).execute({})

    wanted = sorted(item["msisdn"] for item in planned["plan"]["buy"])
    assert sorted(b["msisdn"] for b in applied["applied"]["bought"]) == wanted
    assert applied["plan_digest"] == planned["plan_digest"]
    assert sorted(sandbox.admin.stats()["purchases"]) == wanted


def test_apply_refuses_when_a_planned_number_was_bought_meanwhile(sandbox, nexmo_conn, webhook):
    from airflow_provider_nexmo_numbers.hooks.nexmo_numbers import NexmoNumbersHook

    planned = ensure(webhook, dry_run=True).execute({})
    taken = planned["plan"]["buy"][0]
    NexmoNumbersHook(nexmo_conn_id=nexmo_conn).buy_number(taken["country"], taken["msisdn"])  # someone else
    writes = sandbox.admin.stats()["writes"]

    with pytest.raises(AirflowFailException, match=rf"(?s)no longer holds.*buy {taken['msisdn']}: planned"):
        ensure(webhook, saved_plan=planned).execute({})
    assert sandbox.admin.stats()["writes"] == writes  # nothing bought or changed


def test_apply_refuses_when_a_campaign_number_was_reconfigured_by_hand(sandbox, nexmo_conn, webhook):
    from airflow_provider_nexmo_numbers.hooks.nexmo_numbers import NexmoNumbersHook

    ensure(webhook, count=1).execute({})
    planned = ensure(webhook, dry_run=True).execute({})  # keep 1, buy 1
    (kept,) = planned["plan"]["keep"]
    other = sandbox.admin.webhook_url("by-hand", ready_after=0)
    NexmoNumbersHook(nexmo_conn_id=nexmo_conn).update_number("GB", kept["msisdn"], mo_http_url=other)
    writes = sandbox.admin.stats()["writes"]

    with pytest.raises(AirflowFailException, match=rf"keep {kept['msisdn']}: planned, no longer possible"):
        ensure(webhook, saved_plan=planned).execute({})
    assert sandbox.admin.stats()["writes"] == writes


def test_a_saved_plan_for_another_selector_is_refused(sandbox, nexmo_conn, webhook):
    planned = ensure(webhook, dry_run=True).execute({})
    with pytest.raises(AirflowFailException, match="count was 2, is now 3"):
        ensure(webhook, saved_plan=planned, count=3).execute({})
    assert sandbox.admin.stats()["writes"] == 0


def test_release_applies_exactly_its_saved_plan(sandbox, nexmo_conn, webhook):
    ensure(webhook, count=2).execute({})
    selector = {"country": "GB", "mo_http_url": webhook}
    planned = NexmoReleaseNumbersOperator(task_id="r", selector=selector, dry_run=True).execute({})
    ensure(webhook, count=3).execute({})  # the campaign grew meanwhile
    with pytest.raises(AirflowFailException, match="saved release plan no longer holds"):
        NexmoReleaseNumbersOperator(task_id="r", selector=selector, saved_plan=planned).execute({})
    assert sandbox.admin.stats()["cancellations"] == {}

    planned = NexmoReleaseNumbersOperator(task_id="r", selector=selector, dry_run=True).execute({})
    done = NexmoReleaseNumbersOperator(task_id="r", selector=selector, saved_plan=planned).execute({})
    assert done["count"] == 3
