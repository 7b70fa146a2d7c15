"""Bad input fails at construction (concrete values) with an error naming the field and the rule; templated
values wait for execute(). The runtime counterpart, proving no request is sent, is in
test_ensure.py/test_release.py."""

from __future__ import annotations

import pytest

from airflow_provider_nexmo_numbers.campaigns.selector import NumberSelector
from airflow_provider_nexmo_numbers.client.errors import NexmoValidationError
from airflow_provider_nexmo_numbers.operators.ensure import NexmoEnsureNumbersOperator
from airflow_provider_nexmo_numbers.operators.release import NexmoReleaseNumbersOperator, parse_msisdns

HOOK = "https://hooks.example/campaign"
GOOD = {"selector": {"country": "GB", "mo_http_url": HOOK}, "count": 2}

ENSURE_BAD = [
    ({"count": -1}, "count"),
    ({"count": "many"}, "count"),
    ({"count": True}, "count"),
    ({"count": 10**12}, "count"),  # bounded before the wire (at most 1000)
    ({"lease_wait": -1}, "lease_wait"),
    ({"campaign": "  "}, "campaign"),
    ({"saved_plan": {"plan": "nope"}}, "saved_plan"),
    ({"monthly_budget": "-5"}, "monthly_budget"),
    ({"monthly_budget": "NaN"}, "monthly_budget"),
    ({"max_monthly_cost": "cheap"}, "max_monthly_cost"),
    ({"assumed_cost_per_owned_number": -1}, "assumed_cost_per_owned_number"),
    ({"selector": {"mo_http_url": HOOK}}, "selector.country"),
    ({"selector": {"country": "ZZ"}}, "selector.country"),
    ({"selector": {"country": "GB", "features": "SMS,FAX"}}, "selector.features"),
    ({"selector": {"country": "GB", "type": "satellite"}}, "selector.type"),
    ({"selector": {"country": "GB", "pattern": "44-77"}}, "selector.pattern"),
    ({"selector": {"country": "GB", "colour": "red"}}, "selector.colour"),
    ({"selector": ["GB"]}, "selector"),
    ({"configuration": {"mo_http_url": "not a url"}}, "configuration.mo_http_url"),
    ({"configuration": {"mo_http_url": "https://other.example/x"}}, "configuration.mo_http_url"),
    ({"configuration": {"voice_callback_value": "sip:a@b.example"}}, "configuration.voice_callback_value"),
    (
        {"configuration": {"voice_callback_type": "fax", "voice_callback_value": "x"}},
        "configuration.voice_callback_type",
    ),
    ({"configuration": {"webhook": HOOK}}, "configuration.webhook"),
    ({"configuration": "https://x.example"}, "configuration"),
    ({"known_costs": {"447700900001": "-1"}}, "known_costs[447700900001]"),
    ({"known_costs": {"abc": "1"}}, "known_costs"),
    ({"known_costs": ["447700900001"]}, "known_costs"),
    ({"on_shortfall": "ignore"}, "on_shortfall"),
    ({"dry_run": "maybe"}, "dry_run"),
    ({"adopt_unconfigured": "perhaps"}, "adopt_unconfigured"),
    ({"search_limit": 0}, "search_limit"),
]


@pytest.mark.parametrize(("override", "field"), ENSURE_BAD, ids=[f for _, f in ENSURE_BAD])
def test_ensure_bad_input_names_field(override, field):
    with pytest.raises(NexmoValidationError) as info:
        NexmoEnsureNumbersOperator(task_id="ensure", **{**GOOD, **override})
    assert info.value.field == field
    assert field in str(info.value)
    assert info.value.rule


RELEASE_BAD = [
    ({}, "selector"),  # empty selector, no list, allow_all not set
    ({"selector": {}}, "selector"),
    ({"selector": {"country": "GB"}, "max_release": -1}, "max_release"),
    ({"selector": {"country": "GB"}, "max_release": "lots"}, "max_release"),
    ({"selector": {"country": "gb", "search_pattern": 2}}, "selector.search_pattern"),
    ({"selector": {"mo_http_url": "ftp://x.example/h"}}, "selector.mo_http_url"),
    ({"msisdns": ["447700900001", "0612345678"]}, "msisdns"),
    ({"msisdns": 3.5}, "msisdns"),
    ({"msisdns": {"numbers": []}}, "msisdns"),
    ({"selector": {"country": "GB"}, "keep": ["12ab"]}, "keep"),
    ({"selector": {"country": "GB"}, "allow_all": "sure"}, "allow_all"),
    ({"selector": {"country": "GB"}, "dry_run": 2}, "dry_run"),
]


@pytest.mark.parametrize(("kwargs", "field"), RELEASE_BAD, ids=[f for _, f in RELEASE_BAD])
def test_release_bad_input_names_field(kwargs, field):
    with pytest.raises(NexmoValidationError) as info:
        NexmoReleaseNumbersOperator(task_id="release", **kwargs)
    assert info.value.field == field
    assert field in str(info.value)


def test_templated_values_wait_for_execute():
    op = NexmoEnsureNumbersOperator(
        task_id="ensure",
        selector={"country": "{{ params.country }}", "mo_http_url": HOOK},
        count="{{ params.count }}",
        monthly_budget="{{ params.budget }}",
        configuration={"mo_http_url": "{{ params.hook }}"},
    )
    assert op.count == "{{ params.count }}"
    rel = NexmoReleaseNumbersOperator(task_id="release", msisdns="{{ ti.xcom_pull('ensure') }}")
    assert rel.msisdns.startswith("{{")


def test_selector_object_and_allow_all_and_explicit_list_are_accepted():
    sel = NumberSelector(country="GB", mo_http_url=HOOK)
    op = NexmoEnsureNumbersOperator(task_id="ensure", selector=sel, count=0)
    assert op.selector == {"country": "GB", "mo_http_url": HOOK}
    NexmoReleaseNumbersOperator(task_id="all", allow_all=True)
    NexmoReleaseNumbersOperator(task_id="listed", msisdns=[])


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (["447700900001", 447700900002, "+447700900001"], ["447700900001", "447700900002"]),
        ({"msisdns": ["447700900001"], "plan": {}}, ["447700900001"]),
        ([{"msisdn": "447700900003", "country": "GB"}], ["447700900003"]),
        ('["447700900001", "447700900002"]', ["447700900001", "447700900002"]),
        ("['447700900001', '447700900002']", ["447700900001", "447700900002"]),
        ("447700900001, 447700900002", ["447700900001", "447700900002"]),
        ([], []),
    ],
)
def test_parse_msisdns_accepts_xcom_shapes(value, expected):
    assert parse_msisdns(value) == expected


_PARSE_A_CAMPAIGN_DAG = """
import json, sys
from airflow_provider_nexmo_numbers.operators.drift import NexmoCampaignDriftOperator
from airflow_provider_nexmo_numbers.operators.ensure import NexmoEnsureNumbersOperator
from airflow_provider_nexmo_numbers.operators.release import NexmoReleaseNumbersOperator
selector = {"country": "GB", "mo_http_url": "https://hooks.example/campaign"}
NexmoEnsureNumbersOperator(task_id="ensure", selector=selector, count=2, monthly_budget="10")
NexmoCampaignDriftOperator(task_id="drift", selector=selector, count=2)
NexmoReleaseNumbersOperator(task_id="release", selector=selector)
print(json.dumps(sorted(m for m in sys.modules if m.startswith("airflow_provider_nexmo_numbers"))))
"""


def test_parsing_a_campaign_dag_loads_neither_the_planner_nor_the_purchasing() -> None:
    """DAG files construct these operators on every parse; planning and buying happen only when the task
    runs, so their modules (and the client's HTTP side) must not load before then."""
    import json
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", _PARSE_A_CAMPAIGN_DAG], capture_output=True, text=True, timeout=120, check=True
    ).stdout.strip()
    loaded = set(json.loads(out.splitlines()[-1]))
    assert "airflow_provider_nexmo_numbers.campaigns.selector" in loaded  # validates at construction
    unwanted = {"campaigns.plan", "campaigns.purchasing", "campaigns.saved_plan", "campaigns.drift",
                "client.client", "client.models", "hooks.nexmo_numbers", "ledger"}  # fmt: skip
    assert not {f"airflow_provider_nexmo_numbers.{name}" for name in unwanted} & loaded, sorted(loaded)
