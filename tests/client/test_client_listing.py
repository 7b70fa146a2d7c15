"""Listing, search, paging and lookups against the sandbox; bad input never reaches the wire."""

from __future__ import annotations

import pytest

from airflow_provider_nexmo_numbers.client import (
    NexmoNumberNotFoundError,
    NexmoNumbersClient,
    NexmoValidationError,
    OwnedNumber,
)
from tests.client.conftest import request_counts

LIST = "GET /account/numbers"


def test_paging_across_more_than_a_thousand_numbers(sandbox, make_client):
    sandbox.admin.seed_owned(1050, country="GB")
    client = make_client()
    iterator = client.iter_owned_numbers()
    first = next(iterator)
    assert isinstance(first, OwnedNumber)
    rest = list(iterator)
    msisdns = [first.msisdn, *(n.msisdn for n in rest)]
    assert len(msisdns) == 1050
    assert len(set(msisdns)) == 1050
    assert set(msisdns) == {n["msisdn"] for n in sandbox.admin.owned()}
    assert request_counts(sandbox, LIST) == {"200": 11}  # pages of 100, stops at count (no extra page)


def test_one_page_and_a_page_past_the_end(sandbox, make_client):
    sandbox.admin.seed_owned(25)
    client = make_client()
    page = client.list_owned_numbers(size=10, index=3)
    assert (page.count, len(page.numbers), page.index, page.size) == (25, 5, 3, 10)
    past = client.list_owned_numbers(size=10, index=4)  # the API answers {} here
    assert (past.count, past.numbers) == (0, [])


def test_empty_account_iterates_nothing(sandbox, make_client):
    assert list(make_client().iter_owned_numbers()) == []
    assert request_counts(sandbox, LIST) == {"200": 1}


def test_pattern_and_search_pattern(sandbox, make_client):
    sandbox.admin.seed_owned(30)
    client = make_client()
    target = sandbox.admin.owned()[7]["msisdn"]
    tail = target[-4:]
    ends = client.list_owned_numbers(pattern=tail, search_pattern="ends_with", size=100)
    assert target in {n.msisdn for n in ends.numbers}
    assert all(n.msisdn.endswith(tail) for n in ends.numbers)


def test_get_and_find_owned_number(sandbox, make_client):
    sandbox.admin.seed_owned(5)
    client = make_client()
    msisdn = sandbox.admin.owned()[2]["msisdn"]
    assert client.get_owned_number("+" + msisdn).msisdn == msisdn
    assert client.find_owned_number("447700900000") is None
    with pytest.raises(NexmoNumberNotFoundError) as info:
        client.get_owned_number("447700900000")
    assert info.value.msisdn == "447700900000"
    assert "does not own" in str(info.value)


def test_search_and_iterate_available(sandbox, make_client):
    client = make_client()
    page = client.search_available_numbers("nl", type="mobile-lvn", features="voice,sms", size=5)
    assert page.count >= len(page.numbers) > 0
    for number in page.numbers:
        assert number.country == "NL"
        assert number.type == "mobile-lvn"
        assert number.features == ["SMS", "VOICE"]
        assert str(number.cost) == number.to_dict()["cost"]
    limited = list(client.iter_available_numbers("GB", page_size=7, limit=10))
    assert len(limited) == 10
    assert len({n.msisdn for n in limited}) == 10
    everything = list(client.iter_available_numbers("GB", type="landline", page_size=100))
    assert len(everything) == client.search_available_numbers("GB", type="landline", size=1).count


BAD_CALLS = [
    ("country", lambda c: c.search_available_numbers("XX")),
    ("country", lambda c: c.buy_number("UK", "447700900000")),
    ("msisdn", lambda c: c.buy_number("GB", "07700900000")),
    ("msisdn", lambda c: c.cancel_number("GB", "44abc")),
    ("msisdn", lambda c: c.get_owned_number("123")),
    ("size", lambda c: c.list_owned_numbers(size=0)),
    ("size", lambda c: c.list_owned_numbers(size=101)),
    ("index", lambda c: c.list_owned_numbers(index=0)),
    ("search_pattern", lambda c: c.list_owned_numbers(pattern="44", search_pattern=3)),
    ("pattern", lambda c: c.list_owned_numbers(pattern="44*")),
    ("type", lambda c: c.search_available_numbers("GB", type="mobile")),
    ("features", lambda c: c.search_available_numbers("GB", features="SMS,FAX")),
    ("page_size", lambda c: c.iter_owned_numbers(page_size=500)),
    ("page_size", lambda c: c.iter_available_numbers("GB", page_size=0)),
    ("voice_callback_value", lambda c: c.update_number("GB", "447700900000", voice_callback_value="sip:a@b")),
    ("voice_callback_type", lambda c: c.update_number("GB", "447700900000", voice_callback_type="fax",
                                                      voice_callback_value="1")),
    ("mo_http_url", lambda c: c.update_number("GB", "447700900000", mo_http_url="example.com/mo")),
    ("voice_status_callback", lambda c: c.update_number("GB", "447700900000", voice_status_callback="/x")),
    ("colour", lambda c: c.update_number("GB", "447700900000", colour="blue")),
]  # fmt: skip


@pytest.mark.parametrize(("field", "call"), BAD_CALLS, ids=[f"{f}-{i}" for i, (f, _) in enumerate(BAD_CALLS)])
def test_validation_errors_send_nothing(sandbox, make_client, field, call):
    client = make_client()
    with pytest.raises(NexmoValidationError) as info:
        call(client)
    assert info.value.field == field
    assert field in str(info.value)
    assert info.value.rule in str(info.value)
    stats = sandbox.admin.stats()
    assert stats["api_requests"] == 0
    assert stats["token_requests"] == 0  # not even a token was fetched


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"base_url": "http://api-prd.kpn.com/x"}, "base_url"),
        ({"token_url": "http://example.com/oauth"}, "token_url"),
        ({"base_url": "not a url"}, "base_url"),
        ({"timeout": 0}, "timeout"),
        ({"timeout": (5, -1)}, "timeout"),
        ({"rate_limit": -2}, "rate_limit"),
        ({"max_retries": -1}, "max_retries"),
        ({"max_retry_time": 0}, "max_retry_time"),
        ({"backoff_base": -0.5}, "backoff_base"),
        ({"backoff_max": -1}, "backoff_max"),
    ],
)
def test_bad_client_settings(kwargs, field):
    with pytest.raises(NexmoValidationError) as info:
        NexmoNumbersClient("id", "secret", **kwargs)
    assert info.value.field == field


def test_client_defaults_are_documented_values():
    client = NexmoNumbersClient("id", "secret")
    try:
        assert client.base_url == "https://api-prd.kpn.com/communication/nexmo/phone-numbers"
        assert client.token_url == "https://api-prd.kpn.com/oauth/client_credential/accesstoken"
        assert client.timeout == (5.0, 30.0)
        assert client.retry_policy.max_retries == 5
        assert client.retry_policy.max_retry_time == 120.0
        assert (client.retry_policy.backoff_base, client.retry_policy.backoff_max) == (0.5, 30.0)
        assert client._limiter.enabled  # quota-aware pacing ...
        assert client._limiter.rate == 0.0  # ... with no fixed cap
        assert client.stats == {"requests": 0, "token_fetches": 0, "retries": 0}
    finally:
        client.close()


def test_the_environment_is_read_once_when_the_client_is_made(monkeypatch):
    """requests' per-request environment lookup (trust_env) cost ~40% of a listing's CPU; the client reads
    the proxies and CA bundle once instead, and a ~/.netrc can no longer replace its bearer token."""
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/corporate.pem")
    client = NexmoNumbersClient("id", "secret")
    try:
        assert client._session.trust_env is False
        assert client._session.proxies["https"] == "http://proxy.example:3128"
        assert client._verify == "/etc/ssl/corporate.pem"
        assert client.verify_ssl is True  # what the caller asked for
    finally:
        client.close()
    monkeypatch.setenv("NO_PROXY", "api-prd.kpn.com")
    bypassed = NexmoNumbersClient("id", "secret", verify_ssl=False)
    try:
        assert "https" not in bypassed._session.proxies
        assert bypassed._verify is False
    finally:
        bypassed.close()
