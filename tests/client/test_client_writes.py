"""Buy, cancel and update against the sandbox: money spent once, configuration never lost."""

from __future__ import annotations

import pytest

from airflow_provider_nexmo_numbers.client import (
    NexmoMethodFailedError,
    NexmoNumberNotFoundError,
    NexmoServerError,
    NexmoValidationError,
)
from tests.client.conftest import pick_available, request_counts, wait_for_answers

BUY = "POST /number/buy"
CANCEL = "POST /number/cancel"
UPDATE = "POST /number/update"


@pytest.fixture
def number(sandbox):
    """An available GB number (wire dict)."""
    return pick_available(sandbox)


@pytest.fixture
def owned(sandbox, make_client, number):
    """A number bought for the test; returns its msisdn."""
    make_client().buy_number(number["country"], number["msisdn"])
    return number["msisdn"]


class TestBuy:
    def test_buy_then_buy_again_spends_once(self, sandbox, make_client, number):
        client = make_client()
        first = client.buy_number("gb", "+" + number["msisdn"])
        second = client.buy_number("GB", number["msisdn"])
        assert first.to_dict() == {
            "country": "GB",
            "msisdn": number["msisdn"],
            "already_owned": False,
            "refused_as_owned": False,
        }
        assert second.already_owned is True
        assert second.refused_as_owned is True  # a 420: bought before this call, not by it
        assert sandbox.admin.stats()["purchases"] == {number["msisdn"]: 1}
        assert request_counts(sandbox, BUY) == {"200": 1, "420": 1}

    def test_dropped_connection_after_commit_is_not_bought_twice(self, sandbox, make_client, number):
        client = make_client()
        sandbox.admin.queue_fault("drop_after_commit", operation=BUY)
        result = client.buy_number(number["country"], number["msisdn"])
        assert result.already_owned is True  # confirmed by looking, not by a success answer
        assert result.refused_as_owned is False  # this call's own request bought it
        stats = sandbox.admin.stats()
        assert stats["purchases"] == {number["msisdn"]: 1}
        assert request_counts(sandbox, BUY) == {"dropped": 1}  # looked, did not buy again
        assert client.stats["retries"] == 0

    def test_5xx_before_commit_looks_then_retries(self, sandbox, make_client, sleeps, number):
        client = make_client()
        sandbox.admin.queue_fault("status", operation=BUY, status=503)
        result = client.buy_number(number["country"], number["msisdn"])
        assert result.already_owned is False
        assert request_counts(sandbox, BUY) == {"503": 1, "200": 1}
        assert request_counts(sandbox, "GET /account/numbers") == {"200": 1}  # the look before the retry
        assert sandbox.admin.stats()["purchases"] == {number["msisdn"]: 1}

    def test_timeout_while_the_purchase_hangs_spends_once(self, sandbox, make_client, number):
        client = make_client(timeout=(2.0, 0.3))
        sandbox.admin.queue_fault("hang", operation=BUY, seconds=0.6)
        result = client.buy_number(number["country"], number["msisdn"])
        assert result.msisdn == number["msisdn"]
        # The hung request goes on after our timeout; wait for it, then check it could not buy again.
        assert wait_for_answers(sandbox, BUY, 2) == {"200": 1, "420": 1}
        assert sandbox.admin.stats()["purchases"] == {number["msisdn"]: 1}

    def test_429_on_buy_is_retried_safely(self, sandbox, make_client, sleeps, number):
        client = make_client()
        sandbox.admin.queue_fault("status", operation=BUY, status=429, retry_after=1)
        result = client.buy_number(number["country"], number["msisdn"])
        assert result.already_owned is False
        assert request_counts(sandbox, BUY) == {"429": 1, "200": 1}
        assert request_counts(sandbox, "GET /account/numbers") == {}  # no look needed: never processed
        assert sleeps.waits[0] >= 1.0

    def test_unverifiable_outcome_is_not_retried(self, sandbox, make_client, number):
        client = make_client(max_retries=3)
        sandbox.admin.queue_fault("status", operation=BUY, status=502)
        sandbox.admin.queue_fault("status", operation="GET /account/numbers", status=500, count=10)
        with pytest.raises(NexmoServerError) as info:
            client.buy_number(number["country"], number["msisdn"])
        assert "ownership could not be verified" in str(info.value)
        assert info.value.status == 502
        assert request_counts(sandbox, BUY) == {"502": 1}

    def test_unavailable_number_is_a_420_with_its_label(self, sandbox, make_client):
        client = make_client()
        with pytest.raises(NexmoMethodFailedError) as info:
            client.buy_number("GB", "447700900999")
        assert info.value.status == 420
        assert info.value.error_code == "420"
        assert info.value.error_code_label
        assert info.value.msisdn == "447700900999"

    def test_address_required_country(self, sandbox, make_client):
        client = make_client()
        fr = pick_available(sandbox, "FR")
        with pytest.raises(NexmoMethodFailedError, match="address"):
            client.buy_number("FR", fr["msisdn"])
        assert sandbox.admin.stats()["purchases"] == {}


class TestCancel:
    def test_cancel_then_cancel_again(self, sandbox, make_client, owned):
        client = make_client()
        first = client.cancel_number("GB", owned)
        second = client.cancel_number("GB", owned)
        assert first.to_dict() == {"country": "GB", "msisdn": owned, "already_released": False}
        assert second.already_released is True
        assert sandbox.admin.stats()["cancellations"] == {owned: 1}

    def test_dropped_connection_after_commit(self, sandbox, make_client, owned):
        client = make_client()
        sandbox.admin.queue_fault("drop_after_commit", operation=CANCEL)
        assert client.cancel_number("GB", owned).already_released is True
        assert sandbox.admin.stats()["cancellations"] == {owned: 1}
        assert request_counts(sandbox, CANCEL) == {"dropped": 1}

    def test_5xx_while_still_owned_is_retried(self, sandbox, make_client, owned):
        client = make_client()
        sandbox.admin.queue_fault("status", operation=CANCEL, status=500)
        assert client.cancel_number("GB", owned).already_released is False
        assert request_counts(sandbox, CANCEL) == {"500": 1, "200": 1}


class TestUpdate:
    def test_merge_keeps_what_is_not_changed(self, sandbox, make_client, owned):
        client = make_client()
        hook_url = sandbox.admin.webhook_url("mo", ready_after=0)
        client.update_number(
            "GB",
            owned,
            mo_http_url=hook_url,
            voice_callback_type="sip",
            voice_callback_value="sip:a@example.com",
        )
        after = client.update_number("GB", owned, voice_status_callback="https://example.com/status")
        assert after.mo_http_url == hook_url
        assert (after.voice_callback_type, after.voice_callback_value) == ("sip", "sip:a@example.com")
        assert after.voice_status_callback == "https://example.com/status"
        assert sandbox.admin.stats()["unknown_fields"] == {}
        assert sandbox.admin.stats()["updates"] == {owned: 2}

    def test_empty_string_clears_and_none_keeps(self, sandbox, make_client, owned):
        client = make_client()
        client.update_number("GB", owned, mo_smpp_sys_type="inbound", voice_status_callback="https://e.com/s")
        after = client.update_number("GB", owned, voice_status_callback="", mo_smpp_sys_type=None)
        assert after.voice_status_callback in (None, "")
        assert after.mo_smpp_sys_type == "inbound"

    def test_voice_value_without_type_fails_before_any_request(self, sandbox, make_client, owned):
        client = make_client()
        before = sandbox.admin.stats()["api_requests"]
        with pytest.raises(NexmoValidationError) as info:
            client.update_number("GB", owned, voice_callback_value="sip:a@example.com")
        assert info.value.field == "voice_callback_value"
        assert sandbox.admin.stats()["api_requests"] == before

    def test_webhook_not_ready_is_a_420(self, sandbox, make_client, owned):
        client = make_client()
        url = sandbox.admin.webhook_url("late", ready_after=60)
        with pytest.raises(NexmoMethodFailedError) as info:
            client.update_number("GB", owned, mo_http_url=url)
        assert info.value.operation == UPDATE
        assert info.value.msisdn == owned

    def test_not_owned(self, sandbox, make_client):
        with pytest.raises(NexmoNumberNotFoundError) as info:
            make_client().update_number("GB", "447700900123", voice_status_callback="https://e.com/s")
        assert info.value.msisdn == "447700900123"
        assert request_counts(sandbox, UPDATE) == {}

    def test_wrong_country(self, sandbox, make_client, owned):
        with pytest.raises(NexmoValidationError) as info:
            make_client().update_number("NL", owned, voice_status_callback="https://e.com/s")
        assert info.value.field == "msisdn"  # a GB number: refused by its calling code, before any read
        assert request_counts(sandbox, UPDATE) == {}

    def test_app_id_over_kpn_is_refused_before_the_wire(self, sandbox, make_client, owned):
        """KPN does not document app_id (its gateway drops it): refused before any write, naming the flavour
        to use, instead of a write the read-back then reports as not applied."""
        client = make_client()
        with pytest.raises(NexmoValidationError) as info:
            client.update_number("GB", owned, app_id="aaaaaaaa-bbbb-cccc-dddd-0123456789ab")
        assert info.value.field == "app_id"
        assert "api=vonage" in info.value.rule
        assert request_counts(sandbox, UPDATE) == {}

    def test_dropped_update_is_retried_as_a_full_state_write(self, sandbox, make_client, owned):
        client = make_client()
        sandbox.admin.queue_fault("drop_after_commit", operation=UPDATE)
        after = client.update_number("GB", owned, voice_status_callback="https://e.com/s")
        assert after.voice_status_callback == "https://e.com/s"
        assert request_counts(sandbox, UPDATE) == {"dropped": 1, "200": 1}


def test_update_without_changes_writes_nothing(sandbox, make_client, owned):
    number = make_client().update_number("GB", owned, mo_http_url=None, app_id=None)
    assert number.msisdn == owned
    assert request_counts(sandbox, UPDATE) == {}


@pytest.mark.parametrize("verb", ["buy_number", "cancel_number", "update_number"])
def test_a_number_of_another_country_is_refused_before_the_wire(sandbox, make_client, number, verb):
    """Before: 447700900000 with NL went to the wire and came back as a bare 420."""
    client = make_client()
    with pytest.raises(NexmoValidationError) as info:
        getattr(client, verb)("NL", number["msisdn"])
    assert info.value.field == "msisdn"
    assert info.value.rule == "must start with the country calling code of NL (+31)"
    assert client.stats["requests"] == 0
    assert client.stats["token_fetches"] == 0
    assert sandbox.admin.stats()["requests"] == {}
