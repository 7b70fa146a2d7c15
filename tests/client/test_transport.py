"""The client's lean request path (`client.transport`): what it sends is what `Session.request` would send,
redirects are still followed, pools are reused but never used closed, and a caller's session keeps the
full `Session.request` path."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from airflow_provider_nexmo_numbers.client import NexmoNumbersClient, transport

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


class _RedirectingGateway:
    """A loopback gateway whose listing moved: `/account/numbers` answers 307 to `/v2/account/numbers`."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, body: dict[str, Any] | None, location: str | None = None) -> None:
                data = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                if location:
                    self.send_header("Location", location)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.paths.append(self.path)
                self._send(200, {"access_token": "tok", "expires_in": "3599"})

            def do_GET(self) -> None:
                outer.paths.append(self.path)
                path, _, query = self.path.partition("?")
                if path == "/account/numbers":
                    self._send(307, None, location=f"/v2/account/numbers?{query}")
                elif self.headers.get("Authorization") != "Bearer tok":
                    self._send(401, {"error-code": "401"})
                else:
                    self._send(200, {"count": 1, "numbers": [NUMBER]})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> _RedirectingGateway:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


@pytest.fixture
def gateway() -> Iterator[_RedirectingGateway]:
    with _RedirectingGateway() as server:
        yield server


def test_a_redirected_listing_is_followed_as_session_request_follows_it(gateway) -> None:
    token_url = gateway.base_url + "/token"
    client = NexmoNumbersClient("id", "secret", base_url=gateway.base_url, token_url=token_url, rate_limit=0,
                                share_tokens=False)  # fmt: skip
    page = client.list_owned_numbers(size=10, index=1)
    assert [n.msisdn for n in page.numbers] == ["447700900001"]
    assert page.numbers[0].features == ["SMS", "VOICE"]
    token, first, moved = (path.partition("?") for path in gateway.paths)
    assert (token[0], first[0], moved[0]) == ("/token", "/account/numbers", "/v2/account/numbers")
    assert moved[2] == first[2]  # the query went along
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
