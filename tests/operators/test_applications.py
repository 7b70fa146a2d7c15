"""Operators with applications: link/unlink with the update operator, select by application when listing,
and updates that refuse to clear what the connection's flavour cannot send back."""

from __future__ import annotations

import pytest

from airflow_provider_nexmo_numbers.client import NexmoValidationError
from airflow_provider_nexmo_numbers.operators.list_owned import NexmoListOwnedNumbersOperator
from airflow_provider_nexmo_numbers.operators.update import NexmoUpdateNumberOperator
from tests.fixtures.airflow import conn_env_var

APP = "aaaaaaaa-bbbb-cccc-dddd-0123456789ab"
VONAGE = "nexmo_vonage_direct"


@pytest.fixture
def vonage_conn(sandbox, monkeypatch) -> str:
    import json

    monkeypatch.setenv(
        conn_env_var(VONAGE),
        json.dumps(
            {
                "conn_type": "nexmo_numbers",
                "host": sandbox.vonage_url,
                "login": sandbox.client_id,
                "password": sandbox.client_secret,
                "extra": {"api": "vonage", "rate_limit": 0, "max_retries": 1},
            }
        ),
    )
    return VONAGE


@pytest.fixture
def numbers(sandbox) -> list[str]:
    sandbox.admin.seed_owned(3, configured=False)
    return ["447400000000", "447400000001", "447400000002"]


def _update(conn_id, msisdn, **changes):
    return NexmoUpdateNumberOperator(
        task_id="u", nexmo_conn_id=conn_id, country="GB", msisdn=msisdn, **changes
    ).execute({})


def _list(conn_id, **filters):
    found = NexmoListOwnedNumbersOperator(task_id="l", nexmo_conn_id=conn_id, **filters).execute({})
    return [n["msisdn"] for n in found]


def test_link_select_unlink(sandbox, nexmo_conn, vonage_conn, numbers):
    first, second, third = numbers
    assert _update(vonage_conn, first, app_id=APP)["app_id"] == APP
    assert _update(vonage_conn, second, app_id="other-app")["app_id"] == "other-app"
    assert _list(vonage_conn, application_id=APP) == [first]
    assert _list(vonage_conn, has_application="true") == [first, second]
    assert _list(vonage_conn, has_application=False, country="GB") == [third]
    # the same selection over KPN, filtered by the operator on every listed number
    assert _list(nexmo_conn, application_id=APP) == [first]
    assert _list(nexmo_conn, has_application=False) == [third]
    assert _update(vonage_conn, first, app_id="")["app_id"] is None


def test_kpn_update_refuses_to_unlink_unless_allowed(sandbox, nexmo_conn, vonage_conn, numbers):
    first = numbers[0]
    _update(vonage_conn, first, app_id=APP)
    with pytest.raises(NexmoValidationError) as info:
        _update(nexmo_conn, first, voice_status_callback="https://hooks.example.com/s")
    assert info.value.field == "app_id"
    assert sandbox.admin.owned()[0]["app_id"] == APP
    after = _update(
        nexmo_conn, first, voice_status_callback="https://hooks.example.com/s", allow_clearing=True
    )
    assert after["app_id"] is None
    assert after["voice_status_callback"] == "https://hooks.example.com/s"


def test_app_id_over_kpn_and_the_deprecated_voice_type_fail_before_any_request(sandbox, nexmo_conn, numbers):
    with pytest.raises(NexmoValidationError) as info:
        _update(nexmo_conn, numbers[0], app_id=APP)
    assert info.value.field == "app_id"
    with pytest.raises(NexmoValidationError) as info:
        NexmoUpdateNumberOperator(
            task_id="u", country="GB", msisdn=numbers[0], voice_callback_type="app", voice_callback_value=APP
        )
    assert info.value.field == "voice_callback_type"
    assert "app_id" in info.value.rule
    assert sandbox.admin.stats()["requests"].get("POST /number/update") is None


def test_bad_filters_fail_at_construction():
    with pytest.raises(NexmoValidationError) as info:
        NexmoListOwnedNumbersOperator(task_id="l", has_application="maybe")
    assert info.value.field == "has_application"
    with pytest.raises(NexmoValidationError) as info:
        NexmoListOwnedNumbersOperator(task_id="l", application_id="  ")
    assert info.value.field == "application_id"
    with pytest.raises(NexmoValidationError) as info:
        NexmoUpdateNumberOperator(
            task_id="u", country="GB", msisdn="447400000000", app_id="x", allow_clearing=3
        )
    assert info.value.field == "allow_clearing"
