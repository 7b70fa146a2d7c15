"""Bad input across the operators fails before any request, with a message naming the field.

Each case runs twice: with the bad value given directly (fails at construction, i.e. at DAG parse time) and
with the value coming from a template (fails at the start of execute(), after rendering, before the first
request). The sandbox's stats prove no request was sent, not even for a token.
"""

from __future__ import annotations

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_provider_nexmo_numbers.client.errors import NexmoValidationError
from airflow_provider_nexmo_numbers.operators.buy import NexmoBuyNumberOperator
from airflow_provider_nexmo_numbers.operators.cancel import NexmoCancelNumberOperator
from airflow_provider_nexmo_numbers.operators.list_owned import NexmoListOwnedNumbersOperator
from airflow_provider_nexmo_numbers.operators.search import NexmoSearchNumbersOperator
from airflow_provider_nexmo_numbers.operators.update import NexmoUpdateNumberOperator

Search, Buy, Update, Cancel, List = (
    NexmoSearchNumbersOperator,
    NexmoBuyNumberOperator,
    NexmoUpdateNumberOperator,
    NexmoCancelNumberOperator,
    NexmoListOwnedNumbersOperator,
)
NUMBER = {"country": "NL", "msisdn": "31612345678"}

# (operator, good arguments, the bad field, its bad value, the field the message must name)
CASES = [
    (Search, {}, "country", "Netherlands", "country"),
    (Search, {}, "country", "XX", "country"),
    (Search, {"country": "NL"}, "type", "mobile", "type"),
    (Search, {"country": "NL"}, "features", "SMS,FAX", "features"),
    (Search, {"country": "NL"}, "pattern", "31-6", "pattern"),
    (Search, {"country": "NL"}, "search_pattern", 3, "search_pattern"),
    (Search, {"country": "NL"}, "limit", 0, "limit"),
    (Search, {"country": "NL"}, "limit", "ten", "limit"),
    (Search, {"country": "NL"}, "max_monthly_cost", "-1", "max_monthly_cost"),
    (Search, {"country": "NL"}, "max_monthly_cost", "cheap", "max_monthly_cost"),
    (Search, {"country": "NL"}, "page_size", 101, "page_size"),
    (Buy, {"country": "NL"}, "msisdn", "31abc45678", "msisdn"),
    (Buy, {"country": "NL"}, "msisdn", "0612345678", "msisdn"),
    (Buy, {"country": "NL"}, "msisdn", "123", "msisdn"),
    (Buy, {"country": "NL", "msisdn": "31612345678"}, "max_monthly_cost", "NaN", "max_monthly_cost"),
    (Buy, {"country": "NL", "msisdn": "31612345678"}, "dry_run", "maybe", "dry_run"),
    (Buy, {"msisdn": "31612345678"}, "country", "", "country"),
    (Buy, {"country": "NL", "type": "mobile-lvn"}, "features", "MMS,GPS", "features"),
    (Update, NUMBER, "mo_http_url", "not-a-url", "mo_http_url"),
    (Update, NUMBER, "mo_http_url", "ftp://hooks.example/in", "mo_http_url"),
    (Update, NUMBER, "voice_status_callback", "/relative/path", "voice_status_callback"),
    (Update, NUMBER, "voice_callback_value", "sip:ops@pbx.example", "voice_callback_value"),
    (Update, {**NUMBER, "voice_callback_value": "x"}, "voice_callback_type", "fax", "voice_callback_type"),
    (Update, {"country": "NL", "mo_smpp_sys_type": "x"}, "msisdn", "+31 6 abc", "msisdn"),
    (Cancel, {"country": "NL"}, "msisdn", "3161234567890123", "msisdn"),
    (Cancel, {"msisdn": "31612345678"}, "country", "nl1", "country"),
    (Cancel, NUMBER, "dry_run", "perhaps", "dry_run"),
    (List, {}, "max_xcom_numbers", 0, "max_xcom_numbers"),
    (List, {}, "features", "GPS", "features"),
    (List, {}, "type", "toll-free", "type"),
    (List, {}, "search_pattern", "middle", "search_pattern"),
    (List, {}, "pattern", "31*", "pattern"),
]
IDS = [
    f"{cls.__name__.removeprefix('Nexmo').removesuffix('Operator')}-{field}={value!r}"
    for cls, _, field, value, _ in CASES
]

# Rules across fields, known without rendering: fail at construction even when values are templates.
STATIC_ONLY = [
    (Update, NUMBER, "changes"),
    (Buy, {"country": "NL", "msisdn": "31612345678", "pattern": "316"}, "msisdn"),
    (Buy, {"country": "NL", "msisdn": "{{ params.m }}", "features": "SMS"}, "msisdn"),
]


def _assert_untouched(sandbox) -> None:
    stats = sandbox.admin.stats()
    assert stats["api_requests"] == 0
    assert stats["token_requests"] == 0


@pytest.mark.parametrize(("cls", "good", "field", "value", "named"), CASES, ids=IDS)
def test_bad_value_fails_at_construction(sandbox, nexmo_conn, cls, good, field, value, named):
    with pytest.raises(NexmoValidationError) as caught:
        cls(task_id="bad", **good, **{field: value})

    assert caught.value.field == named
    assert named in str(caught.value)
    _assert_untouched(sandbox)


@pytest.mark.parametrize(("cls", "good", "field", "value", "named"), CASES, ids=IDS)
def test_bad_rendered_value_fails_before_any_request(sandbox, nexmo_conn, cls, good, field, value, named):
    op = cls(task_id="bad", **good, **{field: "{{ bad }}"})  # cannot be judged before rendering
    op.render_template_fields({"bad": value})
    assert getattr(op, field) == str(value)

    with pytest.raises(AirflowFailException) as caught:
        op.execute(context={})

    assert named in str(caught.value)
    assert isinstance(caught.value.__cause__, NexmoValidationError)
    assert caught.value.__cause__.field == named
    _assert_untouched(sandbox)


@pytest.mark.parametrize(
    ("cls", "kwargs", "named"), STATIC_ONLY, ids=["update-no-changes", "buy-both", "buy-both-templated"]
)
def test_cross_field_rules_fail_at_construction(sandbox, nexmo_conn, cls, kwargs, named):
    with pytest.raises(NexmoValidationError) as caught:
        cls(task_id="bad", **kwargs)

    assert caught.value.field == named
    assert named in str(caught.value)
    _assert_untouched(sandbox)


def test_enough_cases():
    assert len(CASES) + len(STATIC_ONLY) >= 30
