"""NexmoSearchNumbersOperator against the sandbox: limit and paging, the budget filter, XCom shape."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from airflow_provider_nexmo_numbers.operators.search import NexmoSearchNumbersOperator


def _search(**kwargs):
    return NexmoSearchNumbersOperator(task_id="search", **kwargs).execute(context={})


def test_returns_json_safe_dicts_with_cost(sandbox, nexmo_conn):
    numbers = _search(country="nl", type="mobile-lvn", features=["voice", "sms"], limit=5)

    assert len(numbers) == 5
    json.dumps(numbers)  # XCom-safe
    for number in numbers:
        assert set(number) >= {"country", "msisdn", "type", "features", "cost", "initial_price"}
        assert number["country"] == "NL"
        assert number["type"] == "mobile-lvn"
        assert {"SMS", "VOICE"} <= set(number["features"])
        assert isinstance(number["cost"], str)
        Decimal(number["cost"])
    assert sandbox.admin.stats()["requests"]["GET /number/search"] == {"200": 1}


def test_pages_until_limit(sandbox, nexmo_conn):
    numbers = _search(country="GB", type="landline", limit=25, page_size=10)

    assert len(numbers) == 25
    assert len({n["msisdn"] for n in numbers}) == 25
    assert sandbox.admin.stats()["requests"]["GET /number/search"] == {"200": 3}


def test_pattern_and_search_pattern(sandbox, nexmo_conn):
    some = _search(country="NL", type="mobile-lvn", limit=1)[0]
    tail = some["msisdn"][-4:]

    numbers = _search(country="NL", type="mobile-lvn", pattern=tail, search_pattern="ends_with", limit=50)

    assert some["msisdn"] in {n["msisdn"] for n in numbers}
    assert all(n["msisdn"].endswith(tail) for n in numbers)


@pytest.mark.parametrize("as_type", [str, Decimal])
def test_max_monthly_cost_filters_exactly(sandbox, nexmo_conn, as_type):
    everything = _search(country="GB", type="landline", limit=1000)
    costs = sorted({Decimal(n["cost"]) for n in everything})
    assert len(costs) >= 2, "the sandbox pool should offer several prices"
    budget = costs[len(costs) // 2]  # a price that exists: numbers at exactly the budget are kept

    numbers = _search(country="GB", type="landline", limit=1000, max_monthly_cost=as_type(str(budget)))

    expected = [n["msisdn"] for n in everything if Decimal(n["cost"]) <= budget]
    assert [n["msisdn"] for n in numbers] == expected
    assert any(Decimal(n["cost"]) == budget for n in numbers)


def test_budget_does_not_count_expensive_numbers_towards_limit(sandbox, nexmo_conn):
    everything = _search(country="GB", type="landline", limit=1000)
    cheapest = min(Decimal(n["cost"]) for n in everything)
    cheap = [n for n in everything if Decimal(n["cost"]) == cheapest]

    numbers = _search(
        country="GB", type="landline", limit=len(cheap), max_monthly_cost=str(cheapest), page_size=7
    )

    assert [n["msisdn"] for n in numbers] == [n["msisdn"] for n in cheap]


def test_no_match_is_an_empty_list(sandbox, nexmo_conn):
    assert _search(country="NL", type="mobile-lvn", pattern="99999999", search_pattern=1) == []


def test_templated_values_wait_for_rendering(sandbox):
    op = NexmoSearchNumbersOperator(
        task_id="search",
        country="{{ params.country }}",
        limit="{{ params.limit }}",
        max_monthly_cost="{{ x }}",
    )
    assert op.country == "{{ params.country }}"
    assert sandbox.admin.stats()["api_requests"] == 0
