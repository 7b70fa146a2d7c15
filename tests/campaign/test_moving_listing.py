"""A campaign's read of the account while another worker buys and releases (issue 11/12: money).

Between two pages of the campaign's own listing, a second client on the same account releases a number that
is not the campaign's (before the read position) and buys another (after it): the count stays the same and
every number after the release shifts one position left. A plain page-by-page read then skips the campaign
number that moved across the page boundary, the plan believes one campaign number is missing, and the
campaign buys a number it does not need. Over HTTP to the sandbox; only the moment of the change is staged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_nexmo_numbers.client.client import NexmoNumbersClient
from airflow_provider_nexmo_numbers.hooks.nexmo_numbers import NexmoNumbersHook
from airflow_provider_nexmo_numbers.operators.drift import NexmoCampaignDriftOperator
from airflow_provider_nexmo_numbers.operators.ensure import NexmoEnsureNumbersOperator

pytestmark = pytest.mark.timeout(120)

SEEDED = 250


@pytest.fixture
def campaign(sandbox, nexmo_conn) -> dict[str, Any]:
    """5 unconfigured GB numbers, then 250 carrying the same inbound webhook (the campaign), as listed."""
    sandbox.admin.seed_owned(5, country="GB", configured=False)
    sandbox.admin.seed_owned(SEEDED, country="GB", configured=True)
    owned = sorted(sandbox.admin.owned(), key=lambda n: n["msisdn"])
    others = [n["msisdn"] for n in owned if not n.get("moHttpUrl")]
    members = [n for n in owned if n.get("moHttpUrl")]
    assert len(members) == SEEDED
    assert {(n["type"], n["moHttpUrl"]) for n in members} == {("mobile-lvn", members[0]["moHttpUrl"])}
    assert max(others) < members[0]["msisdn"]  # the outsiders come first in the listing
    selector = {"country": "GB", "type": "mobile-lvn", "mo_http_url": members[0]["moHttpUrl"]}
    return {"selector": selector, "members": [n["msisdn"] for n in members], "others": others}


def _after_the_first_owned_page(monkeypatch, action: Callable[[], None]) -> None:
    """Run `action` once, right after the first page of `GET /account/numbers` arrived."""
    original = NexmoNumbersClient._get_page
    pages = []

    def get_page(self: NexmoNumbersClient, listing: Any, params: dict[str, Any]) -> Any:
        page = original(self, listing, params)
        if listing[0] == "GET /account/numbers":
            pages.append(params["index"])
            if len(pages) == 1:
                action()
        return page

    monkeypatch.setattr(NexmoNumbersClient, "_get_page", get_page)


def _another_worker_releases_and_buys(sandbox, released: str) -> Callable[[], None]:
    def act() -> None:
        other = NexmoNumbersHook()
        try:
            other.cancel_number("GB", released)
            other.buy_number("GB", max(n["msisdn"] for n in sandbox.admin.pool("GB")))  # after every owned
        finally:
            other.close()

    return act


def test_a_campaign_read_that_the_listing_moves_under_buys_nothing_it_does_not_need(
    sandbox, campaign, monkeypatch
):
    _after_the_first_owned_page(
        monkeypatch, _another_worker_releases_and_buys(sandbox, campaign["others"][2])
    )
    limits = {"max_monthly_cost": "10", "adopt_unconfigured": False, "dry_run": True}
    op = NexmoEnsureNumbersOperator(task_id="ensure", selector=campaign["selector"], count=SEEDED, **limits)
    plan = op.execute({})["plan"]

    assert {item["msisdn"] for item in plan["keep"]} == set(campaign["members"])  # none skipped
    assert plan["buy"] == []  # a skipping read plans one purchase here
    assert len(sandbox.admin.owned()) == SEEDED + 5  # the count never changed


def test_drift_counts_the_campaign_as_it_is_not_as_a_skipping_read_saw_it(sandbox, campaign, monkeypatch):
    _after_the_first_owned_page(
        monkeypatch, _another_worker_releases_and_buys(sandbox, campaign["others"][2])
    )
    op = NexmoCampaignDriftOperator(task_id="drift", selector=campaign["selector"], count=SEEDED)
    drift = op.execute({})["drift"]
    assert [d for d in drift if d["kind"] == "short"] == []  # a skipping read reports 249 of 250
