"""NexmoUpdateNumberOperator and NexmoCancelNumberOperator against the sandbox."""

from __future__ import annotations

import pytest

from airflow_provider_nexmo_numbers.client.errors import NexmoMethodFailedError, NexmoNumbersError
from airflow_provider_nexmo_numbers.operators.buy import NexmoBuyNumberOperator
from airflow_provider_nexmo_numbers.operators.cancel import NexmoCancelNumberOperator
from airflow_provider_nexmo_numbers.operators.search import NexmoSearchNumbersOperator
from airflow_provider_nexmo_numbers.operators.update import NexmoUpdateNumberOperator


@pytest.fixture
def bought(sandbox, nexmo_conn) -> dict:
    """A number bought through the operators (NL mobile with SMS and VOICE)."""
    offer = NexmoSearchNumbersOperator(
        task_id="s", country="NL", type="mobile-lvn", features="SMS,VOICE", limit=1
    ).execute({})[0]
    return NexmoBuyNumberOperator(task_id="b", country="NL", msisdn=offer["msisdn"]).execute({})


def _update(number, **changes):
    return NexmoUpdateNumberOperator(
        task_id="update", country=number["country"], msisdn=number["msisdn"], **changes
    ).execute({})


def _cancel(number, **kwargs):
    return NexmoCancelNumberOperator(
        task_id="cancel", country=number["country"], msisdn=number["msisdn"], **kwargs
    ).execute({})


def _wire(sandbox, msisdn):
    return next(n for n in sandbox.admin.owned() if n["msisdn"] == msisdn)


def test_update_applies_changes_and_keeps_the_rest(sandbox, bought):
    hook_url = sandbox.admin.webhook_url(name="ops-update", ready_after=0)
    first = _update(
        bought, mo_http_url=hook_url, voice_callback_type="sip", voice_callback_value="sip:a@b.example"
    )
    assert first["mo_http_url"] == hook_url
    assert first["voice_callback_type"] == "sip"

    second = _update(bought, mo_smpp_sys_type="inbound", voice_status_callback=hook_url + "?status=1")

    assert second["mo_smpp_sys_type"] == "inbound"
    assert second["voice_status_callback"] == hook_url + "?status=1"
    # given earlier, not given now: kept
    assert second["mo_http_url"] == hook_url
    assert (second["voice_callback_type"], second["voice_callback_value"]) == ("sip", "sip:a@b.example")
    assert second["msisdn"] == bought["msisdn"]
    wire = _wire(sandbox, bought["msisdn"])
    assert wire["moHttpUrl"] == hook_url
    assert wire["voiceCallbackValue"] == "sip:a@b.example"
    assert sandbox.admin.stats()["unknown_fields"] == {}


def test_update_with_empty_string_clears(sandbox, bought):
    hook_url = sandbox.admin.webhook_url(name="ops-clear", ready_after=0)
    _update(bought, mo_http_url=hook_url, mo_smpp_sys_type="x")

    result = _update(bought, mo_http_url="")

    assert not result["mo_http_url"]
    assert result["mo_smpp_sys_type"] == "x"


def test_update_refused_when_the_webhook_is_not_live(sandbox, bought):
    not_ready = sandbox.admin.webhook_url(name="ops-late", ready_after=600)

    with pytest.raises(NexmoMethodFailedError) as caught:
        _update(bought, mo_http_url=not_ready)

    assert caught.value.status == 420
    assert not _wire(sandbox, bought["msisdn"]).get("moHttpUrl")


def test_update_of_a_number_not_owned_fails_without_a_write(sandbox, nexmo_conn):
    with pytest.raises(NexmoNumbersError):
        _update({"country": "NL", "msisdn": "31600000001"}, mo_smpp_sys_type="x")
    assert sandbox.admin.stats()["writes"] == 0


def test_cancel_then_cancel_again(sandbox, bought):
    first = _cancel(bought)
    assert first == {"country": "NL", "msisdn": bought["msisdn"], "already_released": False, "dry_run": False}
    assert bought["msisdn"] not in {n["msisdn"] for n in sandbox.admin.owned()}

    second = _cancel(bought)

    assert second["already_released"] is True
    assert sandbox.admin.stats()["cancellations"] == {bought["msisdn"]: 1}


def test_cancel_dry_run(sandbox, bought):
    result = _cancel(bought, dry_run=True)

    assert result == {"country": "NL", "msisdn": bought["msisdn"], "already_released": False, "dry_run": True}
    assert bought["msisdn"] in {n["msisdn"] for n in sandbox.admin.owned()}
    assert sandbox.admin.stats()["cancellations"] == {}

    gone = _cancel({"country": "NL", "msisdn": "31600000002"}, dry_run="True")
    assert gone["already_released"] is True


def test_cancel_after_a_dropped_connection_is_one_cancellation(sandbox, bought):
    sandbox.admin.queue_fault("drop_after_commit", operation="POST /number/cancel")

    result = _cancel(bought)

    assert result["msisdn"] == bought["msisdn"]
    assert sandbox.admin.stats()["cancellations"] == {bought["msisdn"]: 1}
    assert bought["msisdn"] not in {n["msisdn"] for n in sandbox.admin.owned()}
