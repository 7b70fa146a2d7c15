"""The drift check against the sandbox and the default ledger: read-only, readable, warn or fail."""

from __future__ import annotations

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_provider_nexmo_numbers.operators.drift import NexmoCampaignDriftOperator
from airflow_provider_nexmo_numbers.operators.ensure import NexmoEnsureNumbersOperator

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def campaign(sandbox, nexmo_conn):
    webhook = sandbox.admin.webhook_url("drift", ready_after=0)
    selector = {"country": "GB", "type": "mobile-lvn", "mo_http_url": webhook}
    result = NexmoEnsureNumbersOperator(task_id="ensure", selector=selector, count=3).execute({})
    return {"selector": selector, "msisdns": result["msisdns"]}


def drift(campaign, **kwargs):
    return NexmoCampaignDriftOperator(task_id="drift", selector=campaign["selector"], count=3, **kwargs)


def test_no_drift_right_after_the_campaign(sandbox, campaign):
    writes = sandbox.admin.stats()["writes"]
    assert drift(campaign).execute({})["drift"] == []
    assert sandbox.admin.stats()["writes"] == writes


def test_hand_made_changes_are_reported_and_fail_on_request(sandbox, nexmo_conn, campaign):
    from airflow_provider_nexmo_numbers.hooks.nexmo_numbers import NexmoNumbersHook

    hook = NexmoNumbersHook(nexmo_conn_id=nexmo_conn)
    changed, released = campaign["msisdns"][:2]
    hook.update_number("GB", changed, mo_http_url=sandbox.admin.webhook_url("elsewhere", ready_after=0))
    hook.cancel_number("GB", released)
    writes = sandbox.admin.stats()["writes"]

    result = drift(campaign).execute({})

    kinds = {(d["kind"], d["msisdn"]) for d in result["drift"]}
    assert ("reconfigured", changed) in kinds
    assert ("released", released) in kinds
    assert ("short", "-") in kinds
    assert sandbox.admin.stats()["writes"] == writes  # read-only
    with pytest.raises(AirflowFailException, match=rf"(?s)drifted.*reconfigured\s+{changed}"):
        drift(campaign, on_drift="fail").execute({})
