"""The Vonage-direct flavour (api key/secret as Basic auth) and what only it reaches: applications,
owned-number filters, subaccounts, the balance; and updates that never lose what was not asked to change."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
import requests

from airflow_provider_nexmo_numbers.client import (
    NexmoAuthError,
    NexmoMethodFailedError,
    NexmoTransportError,
    NexmoUpdateNotAppliedError,
    NexmoValidationError,
)
from airflow_provider_nexmo_numbers.sandbox import SandboxConfig, run_sandbox
from tests.client.conftest import pick_available, request_counts

APP = "aaaaaaaa-bbbb-cccc-dddd-0123456789ab"
OTHER_APP = "bbbbbbbb-bbbb-cccc-dddd-0123456789ab"
UPDATE = "POST /number/update"
BUY = "POST /number/buy"


@pytest.fixture
def vonage_client(sandbox, make_client):
    def make(**overrides):
        return make_client(api="vonage", base_url=sandbox.vonage_url, token_url=None, **overrides)

    return make


@pytest.fixture
def linked(sandbox, vonage_client) -> str:
    """An owned number linked to APP, with the deprecated messages callback set (Vonage view)."""
    number = pick_available(sandbox)
    client = vonage_client()
    client.buy_number(number["country"], number["msisdn"])
    session = requests.Session()
    session.trust_env = False
    response = session.post(
        sandbox.vonage_url + "/number/update",
        data={
            "country": number["country"],
            "msisdn": number["msisdn"],
            "app_id": APP,
            "messagesCallbackType": "app",
            "messagesCallbackValue": APP,
            "voiceStatusCallback": "https://hooks.example.com/status",
        },
        auth=(sandbox.client_id, sandbox.client_secret),
        timeout=5,
    )
    assert response.status_code == 200, response.text
    session.close()
    return number["msisdn"]


def test_basic_auth_round_trip_without_tokens(sandbox, vonage_client):
    client = vonage_client()
    number = pick_available(sandbox)
    assert client.buy_number(number["country"], number["msisdn"]).already_owned is False
    assert client.get_owned_number(number["msisdn"]).msisdn == number["msisdn"]
    assert client.cancel_number(number["country"], number["msisdn"]).already_released is False
    assert client.stats["token_fetches"] == 0
    assert client.token_url is None
    assert client.base_url == sandbox.vonage_url
    assert sandbox.admin.stats()["token_requests"] == 0


def test_default_host_is_rest_nexmo_com():
    from airflow_provider_nexmo_numbers.client import NexmoNumbersClient

    client = NexmoNumbersClient("key", "secret", api="vonage")
    assert client.base_url == "https://rest.nexmo.com"
    with pytest.raises(NexmoValidationError) as info:
        NexmoNumbersClient("key", "secret", api="vonage", token_url="https://a.example/token")
    assert info.value.field == "token_url"
    with pytest.raises(NexmoValidationError) as info:
        NexmoNumbersClient("key", "secret", api="twilio")
    assert info.value.field == "api"


def test_bad_secret_is_one_401_not_replayed(sandbox, vonage_client):
    client = vonage_client(client_secret="wrong")
    with pytest.raises(NexmoAuthError):
        client.list_owned_numbers()
    assert request_counts(sandbox, "GET /account/numbers") == {"401": 1}


def test_link_and_unlink_an_application(sandbox, vonage_client, linked):
    client = vonage_client()
    moved = client.update_number("GB", linked, app_id=OTHER_APP)
    assert moved.app_id == OTHER_APP
    assert moved.messages_callback_value == APP  # preserved and checked
    assert moved.voice_status_callback == "https://hooks.example.com/status"
    unlinked = client.update_number("GB", linked, app_id="")
    assert unlinked.app_id is None


def test_owned_filters_server_side_on_vonage_client_side_on_kpn(sandbox, make_client, vonage_client, linked):
    sandbox.admin.seed_owned(2, country="DE", configured=False)
    vonage = vonage_client()
    assert [n.msisdn for n in vonage.iter_owned_numbers(application_id=APP)] == [linked]
    assert vonage.list_owned_numbers(has_application=True).count == 1
    assert vonage.list_owned_numbers(has_application="false", country="DE").count == 2
    before = request_counts(sandbox, "GET /account/numbers")
    kpn = make_client()
    assert [n.msisdn for n in kpn.iter_owned_numbers(application_id=APP)] == [linked]
    assert [n.country for n in kpn.iter_owned_numbers(has_application=False)] == ["DE", "DE"]
    assert len(list(kpn.iter_owned_numbers(country="de"))) == 2
    assert request_counts(sandbox, "GET /account/numbers")["200"] == before["200"] + 3
    with pytest.raises(NexmoValidationError) as info:
        kpn.list_owned_numbers(application_id=APP)
    assert info.value.field == "application_id"
    assert "iter_owned_numbers" in info.value.rule
    with pytest.raises(NexmoValidationError) as info:
        vonage.list_owned_numbers(has_application="maybe")
    assert info.value.field == "has_application"


def test_balance(sandbox, make_client, vonage_client):
    assert vonage_client().get_balance() == Decimal("100.0")
    sandbox.admin.set_balance(12.5)
    assert vonage_client().get_balance() == Decimal("12.5")
    assert make_client().get_balance() is None
    assert sandbox.admin.stats()["requests"].get("GET /account/get-balance") == {"200": 2}


# -- updates never lose what the user did not ask to change --------------------------------------------------


def test_kpn_update_of_a_linked_number_is_refused_before_the_write(sandbox, make_client, linked):
    """Issue 13's data loss: over KPN a voice-only update used to unlink the number and drop its messages
    callback (the gateway ignores app_id, replace clears it), then report "did not apply"."""
    client = make_client()
    with pytest.raises(NexmoValidationError) as info:
        client.update_number("GB", linked, voice_callback_type="sip", voice_callback_value="sip:a@b.example")
    assert info.value.field == "app_id"
    assert APP in str(info.value)
    assert "messages_callback" in str(info.value)
    assert "allow_clearing" in info.value.rule
    assert request_counts(sandbox, UPDATE) == {"200": 1}  # the fixture's write only
    number = sandbox.admin.owned()[0]
    assert (number["app_id"], number["messagesCallbackValue"]) == (APP, APP)

    cleared = client.update_number(
        "GB", linked, allow_clearing=True, voice_callback_type="sip", voice_callback_value="sip:a@b.example"
    )
    assert cleared.app_id is None
    assert cleared.messages_callback_value is None
    assert cleared.voice_callback_value == "sip:a@b.example"


class _DroppingSession(requests.Session):
    """A gateway that forwards an update without the deprecated messages callback (answering success)."""

    def request(self, method, url, *args, data=None, **kwargs):
        if url.endswith("/number/update") and isinstance(data, dict):
            data = {k: v for k, v in data.items() if not k.startswith("messagesCallback")}
        return super().request(method, url, *args, data=data, **kwargs)


def test_read_back_covers_the_preserved_messages_callback(sandbox, vonage_client, linked):
    session = _DroppingSession()
    session.trust_env = False
    client = vonage_client(session=session)
    with pytest.raises(NexmoUpdateNotAppliedError) as info:
        client.update_number("GB", linked, voice_status_callback="https://hooks.example.com/s2")
    assert info.value.mismatches["messages_callback_value"] == (APP, "")
    session.close()


def test_read_back_waits_out_a_read_after_write_lag(sandbox, vonage_client, linked):
    sandbox.admin.configure(read_lag=0.3)
    client = vonage_client(real_sleep=True)
    after = client.update_number("GB", linked, voice_status_callback="https://hooks.example.com/s3")
    assert after.voice_status_callback == "https://hooks.example.com/s3"
    assert request_counts(sandbox, UPDATE) == {"200": 2}  # the fixture's and this one: never re-written


def test_a_420_on_update_names_the_webhook_check(sandbox, vonage_client, linked):
    client = vonage_client()
    hook = sandbox.admin.webhook_url("down-later", ready_after=0)
    client.update_number("GB", linked, mo_http_url=hook)
    sandbox.admin.webhook_url("down-later", ready_after=3600)  # the SMS endpoint goes down
    with pytest.raises(NexmoMethodFailedError) as info:
        client.update_number("GB", linked, voice_status_callback="https://hooks.example.com/s4")
    message = str(info.value)
    assert f"GET to {hook} must answer 200" in message
    assert "mo_http_url" in message


def test_the_webhook_url_in_the_420_hides_userinfo(sandbox, vonage_client, linked):
    client = vonage_client()
    session = requests.Session()
    session.trust_env = False
    secret_url = "https://user:hunter2@hooks.example.invalid/in"
    sandbox.admin.configure(webhook_check=False)
    session.post(
        sandbox.vonage_url + "/number/update",
        data={"country": "GB", "msisdn": linked, "moHttpUrl": secret_url, "app_id": APP},
        auth=(sandbox.client_id, sandbox.client_secret),
        timeout=5,
    )
    session.close()
    sandbox.admin.configure(webhook_check=True)
    with pytest.raises(NexmoMethodFailedError) as info:
        client.update_number("GB", linked, voice_status_callback="https://hooks.example.com/s5")
    assert "hunter2" not in str(info.value)
    assert "https://***@hooks.example.invalid/in" in str(info.value)


def test_a_number_with_the_deprecated_voice_type_app_is_not_written_back(sandbox, vonage_client, linked):
    client = vonage_client()
    sandbox.admin.configure(webhook_check=False)
    raw = requests.post(
        sandbox.vonage_url + "/number/update",
        data={"country": "GB", "msisdn": linked, "voiceCallbackType": "app", "voiceCallbackValue": APP},
        auth=(sandbox.client_id, sandbox.client_secret),
        timeout=5,
    )
    assert raw.status_code == 500  # what the real API answered
    with pytest.raises(NexmoValidationError) as info:
        client.update_number("GB", linked, voice_callback_type="app", voice_callback_value=APP)
    assert "app_id" in info.value.rule
    assert request_counts(sandbox, UPDATE) == {"200": 1, "500": 1}  # the fixture's write and the raw one


# -- subaccounts ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def parent_and_sub() -> Iterator:
    clients = {"parent": "parent-secret", "sub": "sub-secret"}
    with run_sandbox(SandboxConfig(clients=clients, webhook_allow_loopback=True)) as sb:
        yield sb


@pytest.fixture
def subaccounts(parent_and_sub, make_client):
    parent_and_sub.admin.reset()

    def make(**overrides):
        return make_client(
            api="vonage",
            base_url=parent_and_sub.vonage_url,
            token_url=None,
            client_id="parent",
            client_secret="parent-secret",
            **overrides,
        )

    return parent_and_sub, make


def test_buy_and_cancel_for_a_subaccount(subaccounts):
    sb, make = subaccounts
    client = make()
    number = pick_available(sb)
    assert client.buy_number(number["country"], number["msisdn"], target_api_key="sub").already_owned is False
    assert [n["msisdn"] for n in sb.admin.owned("sub")] == [number["msisdn"]]
    assert sb.admin.owned("parent") == []
    client.cancel_number(number["country"], number["msisdn"], target_api_key="sub")
    assert sb.admin.owned("sub") == []


def test_an_ambiguous_subaccount_buy_is_never_repeated(subaccounts):
    sb, make = subaccounts
    number = pick_available(sb)
    sb.admin.queue_fault("drop_after_commit", operation=BUY)
    with pytest.raises(NexmoTransportError) as info:
        make().buy_number(number["country"], number["msisdn"], target_api_key="sub")
    assert "not repeated" in str(info.value)
    assert sb.admin.stats()["requests"][BUY] == {"dropped": 1}
    assert [n["msisdn"] for n in sb.admin.owned("sub")] == [number["msisdn"]]


def test_target_api_key_on_kpn_is_refused_before_the_wire(sandbox, make_client):
    number = pick_available(sandbox)
    with pytest.raises(NexmoValidationError) as info:
        make_client().buy_number(number["country"], number["msisdn"], target_api_key="sub")
    assert info.value.field == "target_api_key"
    assert "Vonage" in info.value.rule
    assert request_counts(sandbox, BUY) == {}
