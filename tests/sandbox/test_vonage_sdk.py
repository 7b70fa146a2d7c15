"""Vonage's own Python SDK (`vonage-numbers`) against the sandbox's Vonage-direct flavour, over real https.

The SDK builds every URL as `https://{rest_host}{path}` and authenticates with a Basic header, so it runs
against a TLS sandbox with `rest_host="127.0.0.1:<port>"`, trusting the sandbox's certificate through
REQUESTS_CA_BUNDLE (its requests session reads the environment). No transport is mocked.

Two SDK requests are not what Vonage's definition says: `NumberFeatures.SMS_VOICE_MMS` is sent as
`SMS,VOICE,MMS` (the definition's value is `SMS,MMS,VOICE`) and `has_application=True` as `True` (the
definition says lower-case). No evidence says the API refuses them, so the sandbox accepts them and refuses
them only in its opt-in strict mode (pinned below).
"""

from __future__ import annotations

import pytest

try:
    import vonage_http_client as vhttp
    import vonage_numbers as vn
except ImportError as exc:  # not installed, or installed but broken: either way there is nothing to run
    pytest.skip(
        f"Vonage's SDK is not importable ({exc}); it is in the dev extra: pip install vonage-numbers",
        allow_module_level=True,
    )

APP_ID = "aaaaaaaa-bbbb-cccc-dddd-0123456789ab"


def numbers_api(sb, api_key: str | None = None, api_secret: str | None = None):
    """`vonage_numbers.Numbers` pointed at the sandbox, the way a user would build it."""
    api_key = api_key or sb.client_id
    auth = vhttp.Auth(api_key=api_key, api_secret=api_secret or sb.clients[api_key])
    options = vhttp.HttpClientOptions(rest_host=sb.rest_host, timeout=5, max_retries=0)
    return vn.Numbers(vhttp.HttpClient(auth, options))


@pytest.fixture
def sdk(tls_sandbox, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", tls_sandbox.ca_bundle)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    numbers = numbers_api(tls_sandbox)
    yield numbers
    numbers.http_client._session.close()


def test_list_owned_numbers(tls_sandbox, sdk):
    numbers, count, next_index = sdk.list_owned_numbers()
    assert (numbers, count, next_index) == ([], 0, None)  # the API's `{}` for an empty account

    tls_sandbox.admin.seed_owned(12, country="NL")
    numbers, count, next_index = sdk.list_owned_numbers(vn.ListOwnedNumbersFilter(size=5, index=2))
    assert (len(numbers), count, next_index) == (5, 12, 3)
    first = numbers[0]
    assert first.country == "NL"
    assert first.msisdn.startswith("31")
    assert first.type in ("landline", "mobile-lvn", "landline-toll-free")
    assert first.features
    # seeded numbers come configured
    assert first.mo_http_url is not None
    assert first.voice_callback_type is not None
    numbers, count, _ = sdk.list_owned_numbers(vn.ListOwnedNumbersFilter(country="GB"))
    assert (numbers, count) == ([], 0)


def test_search_available_numbers_with_mms(tls_sandbox, sdk):
    filter_ = vn.SearchAvailableNumbersFilter(
        country="US", type=vn.NumberType.MOBILE_LVN, features=vn.NumberFeatures.SMS_MMS, size=10
    )
    numbers, count, next_index = sdk.search_available_numbers(filter_)
    assert count > 10
    assert next_index == 2
    assert len(numbers) == 10
    for number in numbers:
        assert number.country == "US"
        assert number.type == "mobile-lvn"
        assert {"SMS", "MMS"} <= set(number.features)
        assert float(number.cost) > 0  # a string of euros, as the SDK's model has it
    # the same search without MMS in the filter still shows MMS on the numbers that have it
    plain, _, _ = sdk.search_available_numbers(vn.SearchAvailableNumbersFilter(country="US", size=100))
    assert any("MMS" in n.features for n in plain)
    pattern = numbers[0].msisdn[-4:]
    found, _, _ = sdk.search_available_numbers(
        vn.SearchAvailableNumbersFilter(country="US", pattern=pattern, search_pattern=2)
    )
    assert numbers[0].msisdn in [n.msisdn for n in found]


def test_buy_update_cancel(tls_sandbox, sdk):
    sb = tls_sandbox
    available, _, _ = sdk.search_available_numbers(
        vn.SearchAvailableNumbersFilter(country="US", features=vn.NumberFeatures.SMS_MMS, size=1)
    )
    msisdn = available[0].msisdn

    status = sdk.buy_number(vn.NumberParams(country="US", msisdn=msisdn))
    assert (status.error_code, status.error_code_label) == ("200", "success")
    owned, count, _ = sdk.list_owned_numbers()
    assert count == 1
    assert owned[0].msisdn == msisdn
    assert owned[0].mo_http_url is None  # a fresh purchase is not configured

    # buying it again is the API's 420, which the SDK raises as a generic HttpRequestError
    with pytest.raises(vhttp.HttpRequestError) as caught:
        sdk.buy_number(vn.NumberParams(country="US", msisdn=msisdn))
    assert caught.value.response.status_code == 420
    assert caught.value.response.json() == {"error-code": "420", "error-code-label": "method failed"}

    webhook = sb.admin.webhook_url("sdk", ready_after=0)  # https, on the sandbox itself
    status = sdk.update_number(
        vn.UpdateNumberParams(
            country="US",
            msisdn=msisdn,
            app_id=APP_ID,
            mo_http_url=webhook,
            voice_callback_type=vn.VoiceCallbackType.SIP,
            voice_callback_value=f"sip:{msisdn}@sip.example.com",
            voice_status_callback="https://hooks.example.com/voice/status",
        )
    )
    assert status.error_code == "200"
    owned, _, _ = sdk.list_owned_numbers()
    number = owned[0]
    assert number.app_id == APP_ID
    assert number.mo_http_url == webhook
    assert number.voice_callback_type == "sip"
    assert number.voice_callback_value == f"sip:{msisdn}@sip.example.com"
    assert "MMS" in number.features
    (record,) = sb.admin.owned()
    assert record["voiceStatusCallback"] == "https://hooks.example.com/voice/status"
    assert record["app_id"] == APP_ID
    numbers, count, _ = sdk.list_owned_numbers(vn.ListOwnedNumbersFilter(application_id=APP_ID))
    assert (count, numbers[0].msisdn) == (1, msisdn)

    status = sdk.cancel_number(vn.NumberParams(country="US", msisdn=msisdn))
    assert status.error_code == "200"
    assert sdk.list_owned_numbers() == ([], 0, None)
    assert sb.admin.owned() == []
    with pytest.raises(vhttp.HttpRequestError) as caught:
        sdk.cancel_number(vn.NumberParams(country="US", msisdn=msisdn))
    assert caught.value.response.status_code == 420

    stats = sb.admin.stats()
    assert stats["purchases"] == {msisdn: 1}
    assert stats["updates"] == {msisdn: 1}
    assert stats["cancellations"] == {msisdn: 1}
    assert stats["writes"] == 3
    assert stats["webhook_checks"] == {"passed": 1}
    assert stats["requests"]["POST /number/buy"] == {"200": 1, "420": 1}
    assert stats["requests"]["POST /number/cancel"] == {"200": 1, "420": 1}
    assert stats["requests"]["POST /number/update"] == {"200": 1}
    assert stats["requests"]["GET /number/search"] == {"200": 1}
    assert stats["requests"]["GET /account/numbers"] == {"200": 4}
    assert stats["unknown_fields"] == {}  # the SDK sends nothing the Vonage flavour does not know
    assert stats["token_requests"] == 0  # Basic auth, no OAuth gateway


def test_update_with_a_webhook_that_is_not_ready(tls_sandbox, sdk):
    msisdn = tls_sandbox.admin.pool("GB")[0]["msisdn"]
    sdk.buy_number(vn.NumberParams(country="GB", msisdn=msisdn))
    webhook = tls_sandbox.admin.webhook_url("later", ready_after=60)
    with pytest.raises(vhttp.HttpRequestError) as caught:
        sdk.update_number(vn.UpdateNumberParams(country="GB", msisdn=msisdn, mo_http_url=webhook))
    assert caught.value.response.status_code == 420
    assert tls_sandbox.admin.stats()["webhook_checks"] == {"failed": 1}


def test_target_api_key_acts_on_the_sub_account(tls_sandbox, sdk):
    msisdn = tls_sandbox.admin.pool("DE")[0]["msisdn"]
    sdk.buy_number(vn.NumberParams(country="DE", msisdn=msisdn, target_api_key="sub-account"))
    assert sdk.list_owned_numbers()[1] == 0
    assert [n["msisdn"] for n in tls_sandbox.admin.owned("sub-account")] == [msisdn]
    sub = numbers_api(tls_sandbox, "sub-account")
    assert sub.list_owned_numbers()[0][0].msisdn == msisdn
    sub.http_client._session.close()


def test_wrong_secret_raises_the_sdks_authentication_error(tls_sandbox, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", tls_sandbox.ca_bundle)
    wrong = numbers_api(tls_sandbox, api_secret="not-the-secret")
    with pytest.raises(vhttp.AuthenticationError) as caught:
        wrong.list_owned_numbers()
    wrong.http_client._session.close()
    assert caught.value.response.status_code == 401
    assert caught.value.response.json() == {"error-code": "401", "error-code-label": "authentication failed"}
    assert tls_sandbox.admin.stats()["requests"] == {"GET /account/numbers": {"401": 1}}


def test_without_the_sandboxs_certificate_the_sdk_refuses_it(tls_sandbox, monkeypatch):
    import requests

    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    untrusting = numbers_api(tls_sandbox)
    with pytest.raises(requests.exceptions.SSLError, match="CERTIFICATE_VERIFY_FAILED"):
        untrusting.list_owned_numbers()
    untrusting.http_client._session.close()


def test_sdk_values_outside_vonages_definition_are_accepted_unless_strict(tls_sandbox, sdk):
    """Vonage's own SDK sends `SMS,VOICE,MMS` (not the definition's `SMS,MMS,VOICE`) and `True`: no evidence
    that the API refuses them, so the sandbox accepts them; the opt-in strict mode answers 400."""
    found, _, _ = sdk.search_available_numbers(
        vn.SearchAvailableNumbersFilter(country="US", features=vn.NumberFeatures.SMS_VOICE_MMS)
    )
    assert found
    assert all({"SMS", "VOICE", "MMS"} <= set(n.features) for n in found)
    tls_sandbox.admin.seed_owned(2, configured=False)
    _numbers, count, _ = sdk.list_owned_numbers(vn.ListOwnedNumbersFilter(has_application=False))
    assert count == 2

    tls_sandbox.admin.configure(strict=True)
    with pytest.raises(vhttp.HttpRequestError) as caught:
        sdk.search_available_numbers(
            vn.SearchAvailableNumbersFilter(country="US", features=vn.NumberFeatures.SMS_VOICE_MMS)
        )
    assert caught.value.response.status_code == 400
    assert "features=SMS%2CVOICE%2CMMS" in caught.value.response.url
    assert list(caught.value.response.json()) == ["features"]

    with pytest.raises(vhttp.HttpRequestError) as caught:
        sdk.list_owned_numbers(vn.ListOwnedNumbersFilter(has_application=True))
    assert caught.value.response.status_code == 400
    assert caught.value.response.json() == {"has_application": "Must be true or false (lower case)."}


def test_the_provider_and_vonages_sdk_agree_on_the_same_account(tls_sandbox, sdk):
    """The provider's Vonage flavour and Vonage's SDK on one account: a number the SDK linked to an
    application keeps its link through the provider's update, both read the same settings, and the
    provider's balance is the Account API's answer the SDK's HTTP client gets."""
    from decimal import Decimal

    from airflow_provider_nexmo_numbers.client import NexmoNumbersClient

    sb = tls_sandbox
    client = NexmoNumbersClient(
        sb.client_id,
        sb.client_secret,
        api="vonage",
        base_url=sb.vonage_url,
        verify_ssl=sb.ca_bundle,
        rate_limit=0,
        max_retries=0,
    )
    available, _, _ = sdk.search_available_numbers(vn.SearchAvailableNumbersFilter(country="GB", size=1))
    msisdn = available[0].msisdn
    sdk.buy_number(vn.NumberParams(country="GB", msisdn=msisdn))
    sdk.update_number(vn.UpdateNumberParams(country="GB", msisdn=msisdn, app_id=APP_ID))

    assert client.get_owned_number(msisdn).app_id == APP_ID
    assert [n.msisdn for n in client.iter_owned_numbers(application_id=APP_ID)] == [msisdn]
    after = client.update_number("GB", msisdn, voice_status_callback="https://hooks.example.com/status")
    assert after.app_id == APP_ID
    owned, _, _ = sdk.list_owned_numbers(vn.ListOwnedNumbersFilter(application_id=APP_ID))
    assert [n.msisdn for n in owned] == [msisdn]

    unlinked = client.update_number("GB", msisdn, app_id="")
    assert unlinked.app_id is None
    owned, count, _ = sdk.list_owned_numbers(vn.ListOwnedNumbersFilter(has_application=True))
    assert count == 0

    sb.admin.set_balance(42.5)
    balance = sdk.http_client.get(sb.rest_host, "/account/get-balance", auth_type="basic")
    assert balance == {"value": 42.5, "autoReload": False}
    assert client.get_balance() == Decimal("42.5")
    assert client.stats["token_fetches"] == 0
    client.close()
