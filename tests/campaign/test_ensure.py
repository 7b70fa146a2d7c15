"""NexmoEnsureNumbersOperator against the sandbox over HTTP: plan, apply, re-apply, budget, pool, resume.

Write counts come from the sandbox's own stats (successful buys, cancels and updates), not from the operator.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException

from airflow_provider_nexmo_numbers.client.errors import NexmoMethodFailedError
from airflow_provider_nexmo_numbers.operators.ensure import JOURNAL_KEY, NexmoEnsureNumbersOperator

pytestmark = pytest.mark.timeout(120)

SIP = "sip:campaign@pbx.example.com"


@pytest.fixture
def hook(nexmo_conn):
    from airflow_provider_nexmo_numbers.hooks.nexmo_numbers import NexmoNumbersHook

    h = NexmoNumbersHook(nexmo_conn_id=nexmo_conn)
    yield h
    h.close()


@pytest.fixture
def webhook(sandbox) -> str:
    """A live webhook on the sandbox (the update's readiness check GETs it)."""
    return sandbox.admin.webhook_url("campaign", ready_after=0)


@pytest.fixture
def other_webhook(sandbox) -> str:
    return sandbox.admin.webhook_url("other", ready_after=0)


def mobile_pool(sb, prefix: str = "") -> list[dict[str, Any]]:
    """Available GB mobile numbers, cheapest first (ties by msisdn), as the planner ranks them."""
    pool = [p for p in sb.admin.pool("GB") if p["type"] == "mobile-lvn" and p["msisdn"].startswith(prefix)]
    return sorted(pool, key=lambda p: (Decimal(p["cost"]), p["msisdn"]))


def ensure(webhook: str, **kwargs: Any) -> NexmoEnsureNumbersOperator:
    args: dict[str, Any] = {
        "task_id": "ensure",
        "selector": {"country": "GB", "type": "mobile-lvn", "mo_http_url": webhook},
        "count": 3,
    }
    args.update(kwargs)
    return NexmoEnsureNumbersOperator(**args)


def campaign_numbers(sb, webhook: str) -> list[dict[str, Any]]:
    return sorted((n for n in sb.admin.owned() if n.get("moHttpUrl") == webhook), key=lambda n: n["msisdn"])


def test_plan_on_empty_account_is_a_dry_run_without_writes(sandbox, nexmo_conn, webhook):
    pool = mobile_pool(sandbox)
    result = ensure(webhook, count=4, max_monthly_cost="5", dry_run=True).execute({})
    plan = result["plan"]
    assert [i["msisdn"] for i in plan["buy"]] == [p["msisdn"] for p in pool[:4]]
    assert plan["keep"] == plan["reconfigure"] == plan["adopt"] == []
    assert Decimal(plan["monthly_cost"]) == sum(Decimal(p["cost"]) for p in pool[:4])
    assert plan["shortfall"] is None
    assert plan["write_count"] == 8
    assert result["applied"] is None
    stats = sandbox.admin.stats()
    assert stats["writes"] == 0
    assert stats["purchases"] == {}
    assert sandbox.admin.owned() == []


def test_apply_then_reapply_makes_no_writes(sandbox, nexmo_conn, webhook):
    op = ensure(
        webhook,
        count=3,
        configuration={"voice_callback_type": "sip", "voice_callback_value": SIP},
        max_monthly_cost="3",
    )
    first = op.execute({})
    assert len(first["applied"]["bought"]) == 3
    assert first["verified"] is True
    stats = sandbox.admin.stats()
    assert stats["writes"] == 6  # 3 buys + 3 updates
    owned = campaign_numbers(sandbox, webhook)
    assert [n["msisdn"] for n in owned] == first["msisdns"]
    assert all(n["voiceCallbackType"] == "sip" and n["voiceCallbackValue"] == SIP for n in owned)

    second = op.execute({})
    assert sandbox.admin.stats()["writes"] == 6
    assert sandbox.admin.stats()["purchases"] == stats["purchases"]
    assert second["applied"] is None
    assert second["write_requests"] == 0
    assert len(second["plan"]["keep"]) == 3
    assert second["msisdns"] == first["msisdns"]
    search = sandbox.admin.stats()["requests"].get("GET /number/search", {})
    assert search == stats["requests"]["GET /number/search"]  # nothing to buy: no search either


def test_partly_provisioned_account(sandbox, nexmo_conn, hook, webhook, other_webhook):
    pool = mobile_pool(sandbox)
    keep, fix, orphan, foreign = (p["msisdn"] for p in pool[-4:])  # the dearest, so they are not re-bought
    for msisdn in (keep, fix, orphan, foreign):
        hook.buy_number("GB", msisdn)
    hook.update_number("GB", keep, mo_http_url=webhook, voice_callback_type="sip", voice_callback_value=SIP)
    hook.update_number("GB", fix, mo_http_url=webhook)  # ours, voice routing missing
    hook.update_number("GB", foreign, mo_http_url=other_webhook)  # someone else's: never touched
    before = sandbox.admin.stats()

    result = ensure(
        webhook,
        count=5,
        configuration={"voice_callback_type": "sip", "voice_callback_value": SIP},
        max_monthly_cost="5",
    ).execute({})
    plan = result["plan"]
    assert [i["msisdn"] for i in plan["keep"]] == [keep]
    assert [i["msisdn"] for i in plan["reconfigure"]] == [fix]
    assert plan["reconfigure"][0]["changes"] == {"voice_callback_type": "sip", "voice_callback_value": SIP}
    assert [i["msisdn"] for i in plan["adopt"]] == [orphan]
    assert [i["msisdn"] for i in plan["buy"]] == [p["msisdn"] for p in pool[:2]]

    after = sandbox.admin.stats()
    assert after["writes"] - before["writes"] == 2 + 2 + 2  # reconfigure, adopt, 2 x (buy + update)
    assert Counter(after["purchases"]).most_common(1)[0][1] == 1
    owned = campaign_numbers(sandbox, webhook)
    assert [n["msisdn"] for n in owned] == sorted([keep, fix, orphan, pool[0]["msisdn"], pool[1]["msisdn"]])
    assert all(n.get("voiceCallbackValue") == SIP for n in owned)
    foreign_now = next(n for n in sandbox.admin.owned() if n["msisdn"] == foreign)
    assert foreign_now["moHttpUrl"] == other_webhook
    assert after["updates"].get(foreign) == before["updates"].get(foreign)


def test_budget_allows_only_some_purchases(sandbox, nexmo_conn, webhook):
    pool = mobile_pool(sandbox)
    budget = Decimal(pool[0]["cost"]) + Decimal(pool[1]["cost"]) + Decimal("0.01")  # two fit, three do not
    with pytest.raises(AirflowFailException, match="budget"):
        ensure(webhook, count=4, monthly_budget=str(budget)).execute({})
    assert sandbox.admin.stats()["writes"] == 0  # on_shortfall="fail": fails before spending anything

    result = ensure(webhook, count=4, monthly_budget=str(budget), on_shortfall="warn").execute({})
    assert result["shortfall"] == result["plan"]["shortfall"]
    assert result["shortfall"]["reason"] == "budget"
    assert result["shortfall"]["missing"] == 2
    assert [b["msisdn"] for b in result["applied"]["bought"]] == [pool[0]["msisdn"], pool[1]["msisdn"]]
    assert Decimal(result["monthly_cost"]) <= budget
    assert sorted(sandbox.admin.stats()["purchases"]) == sorted([pool[0]["msisdn"], pool[1]["msisdn"]])

    # Next run with the owned numbers counted at their known cost: the budget is already used up.
    again = ensure(
        webhook, count=4, monthly_budget=str(budget), on_shortfall="warn", known_costs=result["costs"]
    ).execute({})
    assert again["plan"]["buy"] == []
    assert Decimal(again["plan"]["monthly_cost"]) == Decimal(result["monthly_cost"])
    assert len(sandbox.admin.stats()["purchases"]) == 2


def test_pool_too_small(sandbox, nexmo_conn, webhook):
    counts = Counter(p["msisdn"][:8] for p in mobile_pool(sandbox))
    prefix, available = next((k, v) for k, v in sorted(counts.items()) if 2 <= v <= 5)
    selector = {"country": "GB", "type": "mobile-lvn", "pattern": prefix, "mo_http_url": webhook}
    with pytest.raises(AirflowFailException, match=r"shortfall of 2 .*\(pool\)"):
        ensure(webhook, selector=selector, count=available + 2).execute({})
    assert sandbox.admin.stats()["writes"] == 0

    result = ensure(webhook, selector=selector, count=available + 2, on_shortfall="warn").execute({})
    assert result["shortfall"]["reason"] == "pool"
    assert len(result["applied"]["bought"]) == available
    assert all(m.startswith(prefix) for m in result["msisdns"])


def test_max_monthly_cost_is_a_shortfall_reason(sandbox, nexmo_conn, webhook):
    pool = mobile_pool(sandbox)
    cap = pool[1]["cost"]
    cheap = [p for p in pool if Decimal(p["cost"]) <= Decimal(cap)]
    result = ensure(
        webhook, count=len(cheap) + 1, max_monthly_cost=cap, on_shortfall="warn", dry_run=True
    ).execute({})
    assert result["plan"]["shortfall"]["reason"] == "max_monthly_cost"
    assert all(Decimal(i["monthly_cost"]) <= Decimal(cap) for i in result["plan"]["buy"])


def test_resume_after_failed_configuration_buys_nothing_twice(sandbox, nexmo_conn, webhook):
    """A try buys a number, then its configuration fails (the API's 420, e.g. a failed webhook check): the
    number is owned but unconfigured. The re-run adopts it instead of buying another."""
    ensure(webhook, count=1).execute({})  # one number fully done before the crash
    sandbox.admin.queue_fault("status", operation="POST /number/update", status=420)
    with pytest.raises(NexmoMethodFailedError):
        ensure(webhook, count=3).execute({})
    stats = sandbox.admin.stats()
    assert len(stats["purchases"]) == 2  # the second number was bought, then the update failed
    assert len(campaign_numbers(sandbox, webhook)) == 1

    result = ensure(webhook, count=3).execute({})
    assert len(result["plan"]["keep"]) == 1
    assert len(result["plan"]["adopt"]) == 1
    assert len(result["plan"]["buy"]) == 1
    stats = sandbox.admin.stats()
    assert set(stats["purchases"].values()) == {1}
    assert len(stats["purchases"]) == 3
    assert len(sandbox.admin.owned()) == 3
    assert [n["msisdn"] for n in campaign_numbers(sandbox, webhook)] == result["msisdns"]


def test_dropped_connection_after_a_buy_is_not_bought_twice(sandbox, nexmo_conn, webhook):
    sandbox.admin.queue_fault("drop_after_commit", operation="POST /number/buy")
    result = ensure(webhook, count=2).execute({})
    stats = sandbox.admin.stats()
    assert set(stats["purchases"].values()) == {1}
    assert len(stats["purchases"]) == 2
    assert sum(b["already_owned"] for b in result["applied"]["bought"]) == 1
    assert len(campaign_numbers(sandbox, webhook)) == 2


class DictStateStore:
    """Stand-in for Airflow's per-task-instance `task_state_store` (same get/set surface), to exercise the
    purchase journal without a DAG run; the real store is exercised in test_campaign_dag.py."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def set(self, key: str, value: Any, **_: Any) -> None:
        assert value is not None
        self.data[key] = value


def test_journal_claims_an_earlier_trys_purchase_without_adopt_unconfigured(sandbox, nexmo_conn, webhook):
    store = DictStateStore()
    context = {"task_state_store": store}
    sandbox.admin.queue_fault("status", operation="POST /number/update", status=420)
    op = ensure(webhook, count=2, adopt_unconfigured=False, max_monthly_cost="5")
    with pytest.raises(NexmoMethodFailedError):
        op.execute(context)
    journal = store.data[JOURNAL_KEY]
    (bought,) = journal
    assert journal[bought]["configured"] is False

    result = op.execute(context)
    assert [i["msisdn"] for i in result["plan"]["adopt"]] == [bought]
    assert result["plan"]["adopt"][0]["cost_basis"] == "known"
    stats = sandbox.admin.stats()
    assert set(stats["purchases"].values()) == {1}
    assert len(stats["purchases"]) == 2
    assert all(entry["configured"] for entry in store.data[JOURNAL_KEY].values())
    assert [n["msisdn"] for n in campaign_numbers(sandbox, webhook)] == result["msisdns"]


def test_the_ledger_recognises_the_orphan_without_journal_or_adoption(sandbox, nexmo_conn, webhook):
    """No task state store (Airflow < 3.3) and adopt_unconfigured=False: the number a failed run bought but
    could not configure is the campaign's in the ledger, so the next run adopts it instead of buying another
    (before the ledger, a second number was bought and the orphan left unconfigured)."""
    sandbox.admin.queue_fault("status", operation="POST /number/update", status=420)
    with pytest.raises(NexmoMethodFailedError):
        ensure(webhook, count=1, adopt_unconfigured=False).execute({})
    (orphan,) = sandbox.admin.stats()["purchases"]

    result = ensure(webhook, count=1, adopt_unconfigured=False).execute({})

    assert [item["msisdn"] for item in result["plan"]["adopt"]] == [orphan]
    assert result["plan"]["adopt"][0]["cost_basis"] == "known"  # the cost the ledger recorded
    assert sandbox.admin.stats()["purchases"] == {orphan: 1}
    assert [n["msisdn"] for n in campaign_numbers(sandbox, webhook)] == [orphan]


def test_taken_number_is_replaced_by_an_alternate_within_budget(sandbox, nexmo_conn, webhook):
    pool = mobile_pool(sandbox)
    sandbox.admin.queue_fault("status", operation="POST /number/buy", status=420)
    result = ensure(webhook, count=2).execute({})
    assert result["applied"]["skipped"][0]["msisdn"] == pool[0]["msisdn"]
    assert sorted(b["msisdn"] for b in result["applied"]["bought"]) == sorted(
        [pool[1]["msisdn"], pool[2]["msisdn"]]
    )
    assert len(campaign_numbers(sandbox, webhook)) == 2


def test_templated_bad_input_fails_before_any_request(sandbox, nexmo_conn, webhook):
    op = ensure(webhook, count="{{ params.count }}", monthly_budget="{{ params.budget }}")
    op.count, op.monthly_budget = "3", "-1"  # as rendered
    with pytest.raises(AirflowFailException, match="monthly_budget"):
        op.execute({})
    assert sandbox.admin.stats()["api_requests"] == 0


def test_surplus_is_left_untouched(sandbox, nexmo_conn, webhook):
    ensure(webhook, count=3).execute({})
    writes = sandbox.admin.stats()["writes"]
    result = ensure(webhook, count=1).execute({})
    assert len(result["plan"]["keep"]) == 1
    assert len(result["plan"]["surplus"]) == 2
    assert sandbox.admin.stats()["writes"] == writes
    assert len(campaign_numbers(sandbox, webhook)) == 3


def test_substitute_never_breaks_the_budget(sandbox, nexmo_conn, webhook):
    """The cheapest planned number is taken (420); the next alternate costs more than the budget it freed, so
    it is not bought, even though the budget is not yet spent at that moment."""
    pool = mobile_pool(sandbox)
    budget = Decimal(pool[0]["cost"]) + Decimal(pool[1]["cost"])
    assert Decimal(pool[2]["cost"]) > Decimal(pool[0]["cost"])  # the sandbox's seeded pool
    sandbox.admin.queue_fault("status", operation="POST /number/buy", status=420)
    result = ensure(webhook, count=2, monthly_budget=str(budget), on_shortfall="warn").execute({})
    assert [b["msisdn"] for b in result["applied"]["bought"]] == [pool[1]["msisdn"]]
    assert result["shortfall"]["missing"] == 1
    assert Decimal(result["monthly_cost"]) <= budget
    assert sorted(sandbox.admin.stats()["purchases"]) == [pool[1]["msisdn"]]


def test_shortfall_found_while_applying_fails_after_what_fitted(sandbox, nexmo_conn, webhook):
    pool = mobile_pool(sandbox)
    budget = Decimal(pool[0]["cost"]) + Decimal(pool[1]["cost"])
    sandbox.admin.queue_fault("status", operation="POST /number/buy", status=420)
    with pytest.raises(AirflowException, match=r"1 number\(s\) short after applying"):
        ensure(webhook, count=2, monthly_budget=str(budget)).execute({})
    assert sorted(sandbox.admin.stats()["purchases"]) == [pool[1]["msisdn"]]
    assert [n["msisdn"] for n in campaign_numbers(sandbox, webhook)] == [pool[1]["msisdn"]]


def test_address_required_country_stops_at_the_first_refusal(sandbox, nexmo_conn, webhook):
    """FR needs a local address (the sandbox answers 420 with Vonage's label): one buy attempt, not one per
    cheaper alternative, and the failure quotes the API's label instead of blaming availability."""
    selector = {"country": "FR", "type": "mobile-lvn", "mo_http_url": webhook}
    with pytest.raises(AirflowFailException, match=r"require a valid local address") as info:
        ensure(webhook, selector=selector, count=1).execute({})
    assert "no longer available" not in str(info.value)
    stats = sandbox.admin.stats()
    assert sum(stats["requests"]["POST /number/buy"].values()) == 1
    assert stats["api_requests"] <= 6  # listing, search, fresh price, buy, the client's owned check
    assert stats["writes"] == 0

    result = ensure(webhook, selector=selector, count=2, on_shortfall="warn").execute({})
    assert result["shortfall"]["reason"] == "refused"
    assert result["shortfall"]["missing"] == 2
    assert "require a valid local address" in result["shortfall"]["detail"]
    assert "require a valid local address" in result["applied"]["stopped"]
    assert len(result["applied"]["skipped"]) == 1
    assert sum(sandbox.admin.stats()["requests"]["POST /number/buy"].values()) == 2


def test_repeated_refusals_stop_after_three(sandbox, nexmo_conn, webhook):
    """An account without credit: every buy is refused with a plain 420. Three in a row and ensure stops,
    quoting the label, rather than walking the whole search result."""
    sandbox.admin.queue_fault("status", operation="POST /number/buy", status=420, count=50)
    with pytest.raises(AirflowFailException, match=r"3 consecutive .*420.*method failed"):
        ensure(webhook, count=1).execute({})
    stats = sandbox.admin.stats()
    assert sum(stats["requests"]["POST /number/buy"].values()) == 3
    assert stats["writes"] == 0


def test_fresh_price_search_per_purchase_keeps_reapply_write_free(sandbox, nexmo_conn, webhook):
    """Each purchase re-reads its price with a search of that msisdn (like the buy operator); a re-apply
    then plans nothing to buy, so it makes neither writes nor searches."""
    first = ensure(webhook, count=2, max_monthly_cost="5").execute({})
    stats = sandbox.admin.stats()
    assert sum(stats["requests"]["GET /number/search"].values()) == 1 + 2  # the plan's search + one each
    assert stats["writes"] == 4
    second = ensure(webhook, count=2, max_monthly_cost="5").execute({})
    after = sandbox.admin.stats()
    assert after["writes"] == 4
    assert after["requests"]["GET /number/search"] == stats["requests"]["GET /number/search"]
    assert second["write_requests"] == 0
    assert second["msisdns"] == first["msisdns"]
