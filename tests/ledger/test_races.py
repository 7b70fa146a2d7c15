"""Real processes racing against the sandbox over HTTP, with the default SQLite ledger and with PostgreSQL.

Each racer is a separate Python process running one task try (tests/ledger/worker.py); all of them wait for
one "go" file, so they start buying together. Outcomes are read from the sandbox's own records (purchases per
msisdn, owned numbers) and from the XComs the tries returned, never from timings.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

pytestmark = pytest.mark.timeout(300)


def buy_spec(map_index: int, run_id: str = "scheduled__1", **kwargs: Any) -> dict[str, Any]:
    return {
        "operator": "buy",
        "kwargs": {"country": "GB", "type": "mobile-lvn", "features": "SMS", **kwargs},
        "ti": ["races", "buy", run_id, map_index],
    }


def ensure_spec(webhook: str, run_id: str, count: int = 3, **kwargs: Any) -> dict[str, Any]:
    return {
        "operator": "ensure",
        "kwargs": {
            "selector": {"country": "GB", "type": "mobile-lvn", "mo_http_url": webhook},
            "count": count,
            "lease_wait": 200,
            **kwargs,
        },
        "ti": ["campaign", "ensure", run_id, -1],
    }


def results_of(outcomes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    failed = [o for o in outcomes if not o["ok"]]
    assert not failed, failed
    return [o["result"] for o in outcomes]


def owned_with(sandbox: Any, webhook: str) -> set[str]:
    return {n["msisdn"] for n in sandbox.admin.owned() if n.get("moHttpUrl") == webhook}


def test_three_identical_criteria_buys_get_three_numbers(sandbox, racers):
    # Every request takes a second, so that all three searches are answered before the first purchase: the
    # three tries see the same cheapest number, as mapped tasks on several workers do.
    sandbox.admin.set_faults(latency_ms=1000)
    results = results_of(racers.run([buy_spec(i) for i in range(3)]))

    msisdns = [r["msisdn"] for r in results]
    assert len(set(msisdns)) == 3, msisdns
    assert [r["already_owned"] for r in results] == [False, False, False]
    purchases = sandbox.admin.stats()["purchases"]
    assert sorted(purchases) == sorted(msisdns)
    assert set(purchases.values()) == {1}


def test_the_same_campaign_twice_at_once_never_exceeds_count(sandbox, racers):
    webhook = sandbox.admin.webhook_url("race-campaign", ready_after=0)

    results = results_of(
        racers.run([ensure_spec(webhook, "scheduled__1"), ensure_spec(webhook, "manual__1")])
    )

    purchases = sandbox.admin.stats()["purchases"]
    assert sum(purchases.values()) == 3, purchases
    assert len(owned_with(sandbox, webhook)) == 3
    assert [sorted(r["msisdns"]) for r in results] == [sorted(owned_with(sandbox, webhook))] * 2
    assert all(r["verified"] for r in results)


def test_two_campaigns_of_the_same_kind_each_get_their_own(sandbox, racers):
    hook_a = sandbox.admin.webhook_url("campaign-a", ready_after=0)
    hook_b = sandbox.admin.webhook_url("campaign-b", ready_after=0)

    a, b = results_of(racers.run([ensure_spec(hook_a, "run_a"), ensure_spec(hook_b, "run_b")]))

    assert set(a["msisdns"]) == owned_with(sandbox, hook_a)
    assert set(b["msisdns"]) == owned_with(sandbox, hook_b)
    assert len(a["msisdns"]) == len(b["msisdns"]) == 3
    assert not set(a["msisdns"]) & set(b["msisdns"]), "an XCom claims a number of the other campaign"
    assert a["verified"]
    assert b["verified"]
    purchases = sandbox.admin.stats()["purchases"]
    assert sum(purchases.values()) == 6
    assert set(purchases.values()) == {1}


@pytest.mark.parametrize("kill_at", ["mark_buying", "record_purchase"])
def test_a_buy_killed_between_claim_buy_and_record_is_resumed(sandbox, racers, kill_at):
    """SIGKILL between claim and buy (``mark_buying``) or between buy and record (``record_purchase``);
    the next try of the same task instance buys nothing twice and loses nothing."""
    spec = buy_spec(0)
    racers.run_until_paused(spec, kill_at)
    before = dict(sandbox.admin.stats()["purchases"])
    assert sum(before.values()) == (0 if kill_at == "mark_buying" else 1)

    (outcome,) = results_of(racers.run([spec]))

    purchases = sandbox.admin.stats()["purchases"]
    assert sum(purchases.values()) == 1
    assert set(purchases.values()) == {1}
    assert outcome["msisdn"] in purchases
    # Bought by the killed try: reported as this task instance's earlier purchase, not bought again.
    assert outcome["already_owned"] is (kill_at == "record_purchase")
    from airflow_provider_nexmo_numbers.ledger.airflow import open_ledger

    with open_ledger() as ledger:
        assert [p["msisdn"] for p in ledger.purchases()] == [outcome["msisdn"]]
        assert ledger.claims() == []


@pytest.mark.parametrize("kill_at", ["mark_buying", "record_purchase"])
def test_a_campaign_killed_mid_purchase_ends_with_count(sandbox, racers, kill_at):
    webhook = sandbox.admin.webhook_url("killed-campaign", ready_after=0)
    spec = ensure_spec(webhook, "scheduled__1", count=2, adopt_unconfigured=False, lease_seconds=1)
    racers.run_until_paused(spec, kill_at)

    # A new run of the campaign (another owner) once the dead run's lease has expired.
    (result,) = results_of(
        racers.run([ensure_spec(webhook, "scheduled__2", count=2, adopt_unconfigured=False)])
    )

    purchases = sandbox.admin.stats()["purchases"]
    assert sum(purchases.values()) == 2, purchases
    assert set(purchases.values()) == {1}, purchases
    assert set(result["msisdns"]) == owned_with(sandbox, webhook) == set(purchases)
    assert Counter(result["msisdns"]).most_common(1)[0][1] == 1
