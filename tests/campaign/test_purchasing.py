"""The purchase step of ensure, without a server: fresh price check, alternates, when to stop trying.

The price lookup and the purchase are injected, so price moves (which the sandbox cannot make) are tested
here; the sandbox tests in test_ensure.py cover the same loop over HTTP.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from airflow_provider_nexmo_numbers.campaigns.plan import PlanItem
from airflow_provider_nexmo_numbers.campaigns.purchasing import buy_planned
from airflow_provider_nexmo_numbers.client.errors import NexmoMethodFailedError

ADDRESS = (
    "Numbers from this country can be requested from the Dashboard (https://dashboard.nexmo.com/buy-numbers) "
    "as they require a valid local address to be provided before being purchased."
)


def item(n: int, cost: str) -> PlanItem:
    return PlanItem("buy", "GB", f"4477001{n:05d}", "mobile-lvn", ("SMS",), Decimal(cost), "search", {})


def refused(msisdn: str, label: str = "method failed") -> NexmoMethodFailedError:
    return NexmoMethodFailedError(
        "the API refused the request",
        operation="POST /number/buy",
        status=420,
        error_code="420",
        error_code_label=label,
        msisdn=msisdn,
    )


class Account:
    """Fake purchase side: prices now (default: as planned), numbers that refuse, a log of calls."""

    def __init__(self, prices=None, refuse=(), label="method failed"):
        self.prices = prices or {}
        self.refuse = set(refuse)
        self.label = label
        self.priced: list[str] = []
        self.bought: list[str] = []
        self.attempts: list[str] = []

    def price(self, it: PlanItem):
        self.priced.append(it.msisdn)
        return self.prices.get(it.msisdn, it.monthly_cost)

    def buy(self, it: PlanItem):
        self.attempts.append(it.msisdn)
        if it.msisdn in self.refuse or "*" in self.refuse:
            raise refused(it.msisdn, self.label)
        self.bought.append(it.msisdn)
        return {"msisdn": it.msisdn}


def run(queue, alternates, account, *, budget=None, cap=None):
    reserved = sum((i.monthly_cost for i in queue), Decimal(0))
    return buy_planned(
        queue,
        alternates,
        reserved=reserved,
        budget=None if budget is None else Decimal(budget),
        max_monthly_cost=None if cap is None else Decimal(cap),
        current_price=account.price,
        buy=account.buy,
    )


def test_unchanged_prices_buy_the_plan_and_price_each_number_first():
    a, b = item(1, "1.00"), item(2, "1.50")
    account = Account()
    out = run([a, b], [item(3, "2.00")], account, budget="2.50", cap="2")
    assert account.bought == [a.msisdn, b.msisdn]
    assert account.priced == [a.msisdn, b.msisdn]
    assert out.skipped == []
    assert out.stopped is None
    assert [i.monthly_cost for i, _ in out.bought] == [Decimal("1.00"), Decimal("1.50")]


def test_price_above_max_monthly_cost_is_skipped_like_a_taken_number():
    a, alt = item(1, "1.00"), item(2, "1.20")
    account = Account(prices={a.msisdn: Decimal("3.00")})
    out = run([a], [alt], account, cap="2")
    assert account.attempts == [alt.msisdn]  # the dearer number is never bought
    assert out.skipped[0]["msisdn"] == a.msisdn
    assert "max_monthly_cost" in out.skipped[0]["reason"]
    assert [i.msisdn for i, _ in out.bought] == [alt.msisdn]


def test_price_that_would_break_the_budget_is_skipped_and_the_alternate_fits_the_freed_budget():
    a, b = item(1, "1.00"), item(2, "1.00")
    cheap_alt, dear_alt = item(3, "1.10"), item(4, "1.40")
    account = Account(prices={b.msisdn: Decimal("1.60")})
    out = run([a, b], [cheap_alt, dear_alt], account, budget="2.20", cap="5")
    assert account.bought == [a.msisdn, cheap_alt.msisdn]
    assert "monthly_budget" in out.skipped[0]["reason"]
    assert sum(i.monthly_cost for i, _ in out.bought) <= Decimal("2.20")


def test_a_rise_within_the_limits_is_bought_at_the_new_price():
    a = item(1, "1.00")
    account = Account(prices={a.msisdn: Decimal("1.30")})
    out = run([a], [], account, budget="1.50", cap="2")
    assert [(i.msisdn, i.monthly_cost) for i, _ in out.bought] == [(a.msisdn, Decimal("1.30"))]


def test_a_price_rise_stops_alternates_that_no_longer_fit():
    a, alt = item(1, "1.00"), item(2, "1.00")
    account = Account(prices={a.msisdn: Decimal("1.30"), alt.msisdn: Decimal("1.30")})
    out = run([a], [alt], account, budget="1.00")
    assert account.attempts == []
    assert [s["msisdn"] for s in out.skipped] == [a.msisdn, alt.msisdn]


def test_a_number_no_longer_offered_is_skipped():
    a, alt = item(1, "1.00"), item(2, "1.00")
    account = Account(prices={a.msisdn: None})
    out = run([a], [alt], account)
    assert account.attempts == [alt.msisdn]
    assert "no longer offered" in out.skipped[0]["reason"]


def test_one_taken_number_is_replaced_by_the_next_alternate():
    a, b, alt = item(1, "1.00"), item(2, "1.00"), item(3, "1.00")
    account = Account(refuse={a.msisdn})
    out = run([a, b], [alt], account, budget="2")
    assert sorted(account.bought) == [b.msisdn, alt.msisdn]
    assert out.stopped is None


def test_address_required_label_stops_at_once():
    queue = [item(n, "1.00") for n in range(3)]
    account = Account(refuse={"*"}, label=ADDRESS)
    out = run(queue, [item(n, "1.00") for n in range(10, 70)], account)
    assert account.attempts == [queue[0].msisdn]
    assert "require a valid local address" in out.stopped
    assert "GB" in out.stopped


@pytest.mark.parametrize("limit_hit", [True, False])
def test_three_consecutive_refusals_stop_but_a_success_resets_the_count(limit_hit):
    queue = [item(n, "1.00") for n in range(3)]
    alternates = [item(n, "1.00") for n in range(10, 70)]
    # Not hit: two refusals, a success, two refusals: never three in a row.
    refused_ones = {queue[0].msisdn, queue[1].msisdn, alternates[0].msisdn, alternates[1].msisdn}
    refuse = {"*"} if limit_hit else refused_ones
    account = Account(refuse=refuse)
    out = run(queue, alternates, account)
    if limit_hit:
        assert len(account.attempts) == 3
        assert "3 consecutive" in out.stopped
        assert "'method failed'" in out.stopped
        assert out.bought == []
    else:
        assert out.stopped is None
        wanted = [queue[2].msisdn, alternates[2].msisdn, alternates[3].msisdn]
        assert [i.msisdn for i, _ in out.bought] == wanted


def test_a_420_of_the_configuration_after_a_purchase_is_not_a_refusal():
    """The update right after a purchase can fail with 420 too (e.g. a failed webhook check): that error
    propagates (the crash-resume path adopts the number later); it is not a refused purchase to replace."""
    a, alt = item(1, "1.00"), item(2, "1.00")
    account = Account()

    def configure(it):
        raise refused(it.msisdn)

    with pytest.raises(NexmoMethodFailedError):
        buy_planned(
            [a],
            [alt],
            reserved=Decimal(1),
            budget=None,
            max_monthly_cost=None,
            current_price=account.price,
            buy=account.buy,
            configure=configure,
        )
    assert account.bought == [a.msisdn]
