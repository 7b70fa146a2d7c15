"""OAuth2 against the sandbox gateway: one token per lifetime, renewal, 401 handling, bad credentials."""

from __future__ import annotations

import threading

import pytest
import requests

from airflow_provider_nexmo_numbers.client import NexmoAuthError, NexmoServerError, TokenSource
from tests.client.conftest import request_counts


def test_one_token_serves_many_requests(sandbox, make_client):
    seen = []
    client = make_client(on_token=seen.append)
    for _ in range(5):
        client.list_owned_numbers(size=1)
    client.search_available_numbers("GB", size=1)
    stats = sandbox.admin.stats()
    assert stats["token_requests"] == 1
    assert stats["tokens_issued"] == 1
    assert client.stats == {"requests": 6, "token_fetches": 1, "retries": 0}
    assert len(seen) == 1  # on_token (mask_secret in the hook) saw the one token
    assert client.tokens.expires_in == 3599.0  # parsed from the string "3599"


def test_concurrent_callers_share_one_grant(sandbox, make_client):
    client = make_client()
    errors = []

    def work():
        try:
            client.list_owned_numbers(size=1)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sandbox.admin.stats()["tokens_issued"] == 1


@pytest.fixture
def make_tokens(sandbox):
    """Factory of token sources for the sandbox's first client, sharing one session closed after the test."""
    with requests.Session() as session:

        def make(**kwargs) -> TokenSource:
            kwargs.setdefault("timeout", (2.0, 5.0))
            return TokenSource(
                sandbox.client_id, sandbox.client_secret, sandbox.token_url, session=session, **kwargs
            )

        yield make


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_token_renewed_a_minute_before_expiry(sandbox, make_tokens):
    """With the sandbox's 3599 s tokens: reused at 3538 s, renewed from 3539 s (60 s early)."""
    clock = FakeClock()
    tokens = make_tokens(clock=clock)
    first = tokens.get_token()
    clock.now = 3538.0
    assert tokens.get_token() == first
    clock.now = 3539.5
    second = tokens.get_token()
    assert second != first
    assert tokens.fetches == 2
    tokens.invalidate("some-older-token")  # not the current one: kept
    assert tokens.get_token() == second
    tokens.invalidate(second)
    assert tokens.get_token() not in (first, second)
    assert sandbox.admin.stats()["tokens_issued"] == 3


def test_short_lived_tokens_renew_halfway(sandbox, make_tokens):
    sandbox.admin.configure(token_ttl=30)
    clock = FakeClock()
    tokens = make_tokens(clock=clock)
    first = tokens.get_token()
    clock.now = 14.0
    assert tokens.get_token() == first
    clock.now = 15.5
    assert tokens.get_token() != first


def test_revoked_token_is_renewed_once_and_the_request_replayed(sandbox, make_client):
    client = make_client()
    client.list_owned_numbers(size=1)
    sandbox.admin.revoke_tokens()
    page = client.list_owned_numbers(size=1)
    assert page.count == 0
    assert request_counts(sandbox, "GET /account/numbers") == {"200": 2, "401": 1}
    assert sandbox.admin.stats()["token_requests"] == 2
    assert client.stats["retries"] == 0  # a replay after 401 is not a retry


def test_revoke_fault_mid_run(sandbox, make_client):
    client = make_client()
    sandbox.admin.queue_fault("revoke_token", operation="GET /number/search")
    assert client.search_available_numbers("NL", size=2).count > 0
    assert sandbox.admin.stats()["token_requests"] == 2


def test_a_second_401_is_an_auth_error(sandbox, make_client):
    client = make_client()
    sandbox.admin.queue_fault("status", operation="GET /account/numbers", status=401, count=2)
    with pytest.raises(NexmoAuthError) as info:
        client.list_owned_numbers()
    assert info.value.status == 401
    assert info.value.operation == "GET /account/numbers"
    assert request_counts(sandbox, "GET /account/numbers") == {"401": 2}


def test_bad_credentials_fail_at_the_token_endpoint_without_retries(sandbox, make_client):
    client = make_client(client_secret="wrong-secret", max_retries=5)
    with pytest.raises(NexmoAuthError) as info:
        client.list_owned_numbers()
    assert info.value.operation == "token"
    assert "rejected the client credentials" in str(info.value)
    assert "wrong-secret" not in str(info.value)
    stats = sandbox.admin.stats()
    assert stats["token_requests"] == 1
    assert stats["api_requests"] == 0


def test_token_endpoint_outage_is_retried_by_the_client(sandbox, sleeps, make_client):
    sandbox.admin.queue_fault("status", operation="token", status=503, count=2)
    client = make_client(max_retries=3)
    assert client.list_owned_numbers().count == 0
    assert request_counts(sandbox, "token") == {"503": 2, "200": 1}
    assert len(sleeps.waits) == 2
    assert client.stats == {"requests": 1, "token_fetches": 3, "retries": 2}


def test_token_source_makes_one_grant_per_call(sandbox, make_tokens):
    """Retrying a grant is the caller's job: a token source that retried too would nest two retry loops."""
    sandbox.admin.queue_fault("status", operation="token", status=503, count=1)
    tokens = make_tokens()
    with pytest.raises(NexmoServerError) as info:
        tokens.get_token()
    assert info.value.operation == "token"
    assert tokens.get_token()
    assert request_counts(sandbox, "token") == {"503": 1, "200": 1}


def test_one_keep_alive_connection_for_token_and_api(sandbox, make_client):
    """Token grant and API calls go over one reused TCP connection (same host in the sandbox)."""
    client = make_client()
    for _ in range(5):
        client.list_owned_numbers(size=1)
    manager = client._session.get_adapter(sandbox.base_url).poolmanager
    pools = [manager.pools[key] for key in manager.pools.keys()]  # noqa: SIM118 - not iterable
    assert sum(pool.num_connections for pool in pools) == 1
    assert sum(pool.num_requests for pool in pools) == 6
