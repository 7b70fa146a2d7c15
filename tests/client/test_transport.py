"""The client's lean request path (`client.transport`): what it sends is what `Session.request` would send,
redirects are still followed, pools are reused but never used closed, and a caller's session keeps the
full `Session.request` path."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from airflow_provider_nexmo_numbers.client import NexmoNumbersClient, transport
from tests.client.hostile_server import HostileServer

NUMBER = {"country": "GB", "msisdn": "447700900001", "type": "mobile-lvn", "features": ["VOICE", "SMS"]}


@pytest.mark.parametrize(
    ("method", "url", "params", "data"),
    [
        ("GET", "https://api.example.com/account/numbers", {"size": 100, "index": 3}, None),
        ("get", "https://api.example.com/number/search", {"country": "GB", "type": None}, None),
        ("GET", "https://api.example.com/x/account/numbers?a=1", {"b": ["1", "2"], "c": "é ü+&="}, None),
        ("GET", "https://api.example.com/a path/with space", None, None),
        ("GET", "https://BÜCHER.example/account/numbers", {"index": 1}, None),
        ("POST", "https://api.example.com/number/buy", None, {"country": "GB", "msisdn": "447700900001"}),
        ("POST", "https://api.example.com/number/update", None, {"moHttpUrl": "", "app_id": None, "x": "ä&"}),
    ],
)  # fmt: skip
def test_a_request_is_prepared_as_session_request_prepares_it(method, url, params, data) -> None:
    session = requests.Session()
    session.trust_env = False
    session.headers.update({"User-Agent": "ua/1", "Accept": "application/json"})
    headers = {"Authorization": "Bearer abc"}
    ours = transport._prepare(session, method, url, params, data, headers)
    theirs = session.prepare_request(requests.Request(method, url, params=params, data=data, headers=headers))
    assert (ours.method, ours.url, ours.body) == (theirs.method, theirs.url, theirs.body)
    assert dict(ours.headers) == dict(theirs.headers)
    session.close()


def test_a_header_that_could_split_the_request_is_refused_before_sending() -> None:
    session = requests.Session()
    with pytest.raises(requests.exceptions.InvalidHeader):
        transport._prepare(
            session, "GET", "https://api.example.com/", None, None, {"Authorization": "a\r\nX: y"}
        )


@pytest.fixture
def gateway() -> Iterator[HostileServer]:
    """A loopback gateway whose listing moved: `/account/numbers` answers 307 to `/v2/account/numbers`."""
    server = HostileServer()
    server.behaviour["/account/numbers"] = "redirect:/v2/account/numbers"
    server.bodies["/v2/account/numbers"] = {"count": 1, "numbers": [NUMBER]}
    yield server
    server.close()


def test_a_redirected_listing_is_followed_as_session_request_follows_it(gateway) -> None:
    client = NexmoNumbersClient("id", "secret", base_url=gateway.url, token_url=gateway.url + "/token",
                                rate_limit=0, share_tokens=False)  # fmt: skip
    page = client.list_owned_numbers(size=10, index=1)
    assert [n.msisdn for n in page.numbers] == ["447700900001"]
    assert page.numbers[0].features == ["SMS", "VOICE"]
    (token, _), (first, sent), (moved, resent) = gateway.requests
    assert (token.split("?")[0], first.split("?")[0], moved.split("?")[0]) == (
        "/token", "/account/numbers", "/v2/account/numbers")  # fmt: skip
    assert moved.split("?")[1] == first.split("?")[1]  # the query went along
    assert resent == sent == "Bearer tok1"  # and, on the same host, the token
    client.close()


def _client(sandbox: Any, **kwargs: Any) -> NexmoNumbersClient:
    urls = {"base_url": sandbox.base_url, "token_url": sandbox.token_url}
    return NexmoNumbersClient(sandbox.client_id, sandbox.client_secret, rate_limit=0, share_tokens=False,
                              **urls, **kwargs)  # fmt: skip


def test_our_own_session_skips_session_request_and_a_callers_session_keeps_it(sandbox, monkeypatch) -> None:
    calls: list[str] = []
    original = requests.Session.request

    def counting(self: requests.Session, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        calls.append("numbers" if url.endswith("/account/numbers") else "token")
        return original(self, method, url, *args, **kwargs)

    monkeypatch.setattr(requests.Session, "request", counting)
    with _client(sandbox) as client:
        client.list_owned_numbers(size=10)
        client.list_owned_numbers(size=10, index=2)
    assert calls == ["token"]  # the token grant goes through the session; API requests do not

    calls.clear()
    session = requests.Session()
    session.trust_env = False
    with _client(sandbox, session=session) as client:
        client.list_owned_numbers(size=10)
    assert calls == ["token", "numbers"]
    session.close()


def test_a_pool_closed_under_the_adapter_is_replaced_not_used(sandbox) -> None:
    with _client(sandbox) as client:
        adapter = client._session.get_adapter(sandbox.base_url)
        assert isinstance(adapter, transport.ClientAdapter)
        client.list_owned_numbers(size=10)
        (pool,) = adapter._pools.values()
        client.list_owned_numbers(size=10)
        assert list(adapter._pools.values()) == [pool]  # remembered, not looked up again
        adapter.poolmanager.clear()  # what urllib3 1.26's pool manager does to a pool it evicts:
        pool.close()  # forget it and close it
        assert pool.pool is None
        assert client.list_owned_numbers(size=10).count >= 0
        (replacement,) = adapter._pools.values()
        assert replacement is not pool
        assert replacement.pool is not None
    assert replacement.pool is None  # closing the client closes the pools the adapter remembers
