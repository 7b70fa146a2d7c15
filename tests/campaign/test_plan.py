"""Pure planning rules (no server): keep/reconfigure/adopt/buy/surplus, budget, shortfall reasons, output."""

from __future__ import annotations

import json
from decimal import Decimal

from airflow_provider_nexmo_numbers.campaigns.plan import build_plan
from airflow_provider_nexmo_numbers.campaigns.selector import NumberSelector

HOOK = "https://hooks.example/campaign"
CONFIG = {"mo_http_url": HOOK}
SEL = NumberSelector.parse({"country": "GB", "type": "mobile-lvn", "features": "SMS", "mo_http_url": HOOK})


def owned(n, **settings):
    return {
        "country": "GB",
        "msisdn": f"4477009{n:05d}",
        "type": "mobile-lvn",
        "features": ["SMS"],
        **settings,
    }


def avail(n, cost, **kw):
    return {
        "country": "GB",
        "msisdn": f"4477001{n:05d}",
        "type": "mobile-lvn",
        "features": ["SMS", "VOICE"],
        "cost": cost,
        **kw,
    }


def plan(**kw):
    args = {"owned": [], "selector": SEL, "count": 3, "configuration": CONFIG, "candidates": []}
    args.update(kw)
    return build_plan(**args)


def test_empty_account_buys_cheapest_first():
    pool = [avail(1, "2.00"), avail(2, "0.50"), avail(3, "1.00"), avail(4, "0.50")]
    p = plan(candidates=pool)
    assert [i.msisdn for i in p.buy] == ["447700100002", "447700100004", "447700100003"]
    assert p.purchase_cost == Decimal("2.00")
    assert p.monthly_cost == Decimal("2.00")
    assert p.shortfall is None
    assert all(i.changes == CONFIG for i in p.buy)
    assert p.write_count == 6
    assert len(p.alternates) == 1


def test_matching_account_is_noop_and_does_not_search():
    def candidates():
        raise AssertionError("the search must not run when nothing is to be bought")

    p = plan(owned=[owned(i, mo_http_url=HOOK) for i in range(3)], candidates=candidates)
    assert len(p.keep) == 3
    assert p.is_noop
    assert p.candidates_examined == 0


def test_partly_provisioned_reconfigures_and_buys_the_rest():
    sel = NumberSelector.parse({"country": "GB", "mo_http_url": HOOK})
    config = {**CONFIG, "voice_callback_type": "sip", "voice_callback_value": "sip:c@pbx.example"}
    numbers = [
        owned(1, mo_http_url=HOOK, voice_callback_type="sip", voice_callback_value="sip:c@pbx.example"),
        owned(2, mo_http_url=HOOK),  # ours, voice routing missing
        owned(3, mo_http_url="https://other.example/x"),  # someone else's
        owned(4, country="NL"),  # other identity
    ]
    p = plan(owned=numbers, selector=sel, configuration=config, candidates=[avail(1, "1")])
    assert [i.msisdn for i in p.keep] == ["447700900001"]
    assert [i.msisdn for i in p.reconfigure] == ["447700900002"]
    assert p.reconfigure[0].changes == {
        "voice_callback_type": "sip",
        "voice_callback_value": "sip:c@pbx.example",
    }
    assert [i.msisdn for i in p.buy] == ["447700100001"]
    assert p.adopt == ()


def test_unconfigured_numbers_are_adopted_before_buying():
    numbers = [owned(1, mo_http_url=HOOK), owned(2), owned(3, voice_status_callback="https://s.example/x")]
    p = plan(owned=numbers, count=2, candidates=[avail(1, "1")])
    assert [i.msisdn for i in p.adopt] == ["447700900002"]
    assert p.adopt[0].changes == CONFIG
    assert p.buy == ()  # 1 keep + 1 adopt = 2; the configured foreign number is never taken
    q = plan(owned=numbers, count=2, candidates=[avail(1, "1")], adopt_unconfigured=False)
    assert q.adopt == ()
    assert [i.msisdn for i in q.buy] == ["447700100001"]


def test_surplus_is_reported_not_touched():
    numbers = [owned(i, mo_http_url=HOOK) for i in range(4)] + [owned(9)]
    p = plan(owned=numbers, count=2)
    assert len(p.keep) == 2
    assert [i.msisdn for i in p.surplus] == ["447700900002", "447700900003"]
    assert p.adopt == ()
    assert p.is_noop


def test_configured_numbers_are_kept_before_misconfigured():
    sel = NumberSelector.parse({"country": "GB", "mo_http_url": HOOK})
    config = {**CONFIG, "mo_smpp_sys_type": "x"}
    numbers = [owned(1, mo_http_url=HOOK), owned(2, mo_http_url=HOOK, mo_smpp_sys_type="x")]
    p = plan(owned=numbers, selector=sel, configuration=config, count=1)
    assert [i.msisdn for i in p.keep] == ["447700900002"]
    assert [i.msisdn for i in p.surplus] == ["447700900001"]
    assert p.reconfigure == ()


def test_budget_allows_only_some_purchases():
    pool = [avail(i, "1.50") for i in range(5)]
    p = plan(candidates=pool, count=5, monthly_budget=Decimal("4.00"))
    assert len(p.buy) == 2
    assert p.monthly_cost == Decimal("3.00") <= Decimal("4.00")
    assert p.shortfall.missing == 3
    assert p.shortfall.reason == "budget"


def test_budget_counts_owned_numbers_at_assumed_or_known_cost():
    numbers = [owned(1, mo_http_url=HOOK), owned(2, mo_http_url=HOOK)]
    pool = [avail(i, "1.00") for i in range(5)]
    p = plan(
        owned=numbers,
        count=4,
        candidates=pool,
        monthly_budget=Decimal("5"),
        assumed_cost_per_owned_number=Decimal("2"),
        known_costs={"447700900001": Decimal("1.5")},
    )
    assert p.owned_cost == Decimal("3.5")
    assert [i.cost_basis for i in p.keep] == ["known", "assumed"]
    assert len(p.buy) == 1  # 3.5 + 1 = 4.5 <= 5; a second would make 5.5
    assert p.monthly_cost == Decimal("4.5")
    assert p.shortfall.reason == "budget"
    assert p.unknown_cost_count == 0


def test_unknown_owned_costs_count_as_zero_with_a_warning():
    p = plan(owned=[owned(1, mo_http_url=HOOK)], count=1, monthly_budget=Decimal("1"))
    assert p.unknown_cost_count == 1
    assert p.keep[0].monthly_cost is None
    assert any("unknown monthly cost" in w for w in p.warnings)


def test_pool_too_small():
    p = plan(candidates=[avail(1, "1")], count=3)
    assert len(p.buy) == 1
    assert p.shortfall.missing == 2
    assert p.shortfall.reason == "pool"


def test_max_monthly_cost_filters_and_is_the_reason():
    pool = [avail(1, "0.90"), avail(2, "5.00"), avail(3, "7.00")]
    p = plan(candidates=pool, count=3, max_monthly_cost=Decimal("1"))
    assert [i.msisdn for i in p.buy] == ["447700100001"]
    assert p.shortfall.reason == "max_monthly_cost"
    assert p.candidates_within_cap == 1


def test_candidates_must_match_identity_and_not_be_owned():
    numbers = [owned(1, mo_http_url="https://other.example/x")]
    pool = [
        {**avail(1, "1"), "msisdn": "447700900001"},  # owned already
        avail(2, "1", country="NL"),
        avail(3, "1", type="landline"),
        avail(4, "1", features=["VOICE"]),
        avail(5, "1"),
        avail(5, "1"),  # duplicate across pages
    ]
    p = plan(owned=numbers, candidates=pool, count=3)
    assert [i.msisdn for i in p.buy] == ["447700100005"]
    assert p.candidates_eligible == 1


def test_candidate_limit_stops_consuming():
    consumed = []

    def pool():
        for i in range(100):
            consumed.append(i)
            yield avail(i, "1")

    p = plan(candidates=pool, count=1, candidate_limit=10)
    assert len(consumed) == 10
    assert p.search_truncated
    assert len(p.buy) == 1


def test_count_zero_plans_nothing():
    p = plan(owned=[owned(1, mo_http_url=HOOK)], count=0)
    assert p.is_noop
    assert [i.msisdn for i in p.surplus] == ["447700900001"]


def test_to_dict_is_json_safe_and_table_is_readable():
    p = plan(
        owned=[owned(1, mo_http_url=HOOK), owned(2)],
        candidates=[avail(1, "1.25"), avail(2, "9")],
        count=4,
        max_monthly_cost=Decimal("2"),
        monthly_budget=Decimal("10"),
    )
    data = json.loads(json.dumps(p.to_dict()))
    assert data["monthly_cost"] == "1.25"
    assert data["buy"][0]["monthly_cost"] == "1.25"
    assert data["shortfall"]["reason"] == "max_monthly_cost"
    assert data["msisdns"] == ["447700100001", "447700900001", "447700900002"]
    table = p.render_table()
    for text in ("ACTION", "keep", "adopt", "buy", "447700100001", "SHORTFALL", "EUR 1.25"):
        assert text in table


def test_claimed_numbers_are_adopted_first_even_without_adopt_unconfigured():
    numbers = [owned(1), owned(2), owned(3, voice_status_callback="https://s.example/x")]
    p = plan(
        owned=numbers,
        count=2,
        adopt_unconfigured=False,
        claimed=["447700900003", "447700900002"],
        candidates=[avail(1, "1")],
    )
    assert [i.msisdn for i in p.adopt] == ["447700900002", "447700900003"]
    assert p.adopt[1].changes == CONFIG
    assert p.buy == ()
    q = plan(owned=numbers, count=1, claimed=["447700900003", "447700900002"])
    assert [i.msisdn for i in q.adopt] == ["447700900002"]
    assert [i.msisdn for i in q.surplus] == ["447700900003"]


def test_a_voice_value_change_carries_its_type_and_the_reverse():
    """The API takes the voice callback type and value only together, so a change of either sends both."""
    config = {**CONFIG, "voice_callback_type": "sip", "voice_callback_value": "sip:v2@pbx.example"}
    numbers = [
        # value only, type only, neither (the type compares case-insensitively)
        owned(1, mo_http_url=HOOK, voice_callback_type="sip", voice_callback_value="sip:v1@pbx.example"),
        owned(2, mo_http_url=HOOK, voice_callback_type="app", voice_callback_value="sip:v2@pbx.example"),
        owned(3, mo_http_url=HOOK, voice_callback_type="SIP", voice_callback_value="sip:v2@pbx.example"),
    ]
    p = plan(owned=numbers, configuration=config)
    voice = {"voice_callback_type": "sip", "voice_callback_value": "sip:v2@pbx.example"}
    assert {i.msisdn: dict(i.changes) for i in p.reconfigure} == {
        "447700900001": voice,
        "447700900002": voice,
    }
    assert [i.msisdn for i in p.keep] == ["447700900003"]


def test_a_change_outside_the_voice_pair_leaves_the_pair_out():
    config = {
        **CONFIG,
        "mo_smpp_sys_type": "v2",
        "voice_callback_type": "sip",
        "voice_callback_value": "sip:a@b",
    }
    number = owned(
        1, mo_http_url=HOOK, mo_smpp_sys_type="v1", voice_callback_type="sip", voice_callback_value="sip:a@b"
    )
    p = plan(owned=[number], count=1, configuration=config)
    assert dict(p.reconfigure[0].changes) == {"mo_smpp_sys_type": "v2"}
