"""Throttling, server errors and timeouts against the sandbox: what is retried, how long, and when to stop."""

from __future__ import annotations

import time

import pytest

from airflow_provider_nexmo_numbers.client import (
    NexmoServerError,
    NexmoThrottledError,
    NexmoTransportError,
    RetryPolicy,
)
from tests.client.conftest import pick_available, request_counts, wait_for_answers

LIST = "GET /account/numbers"


def test_429_waits_for_retry_after_then_succeeds(sandbox, make_client, sleeps):
    client = make_client()
    sandbox.admin.queue_fault("status", operation=LIST, status=429, retry_after=3)
    client.list_owned_numbers()
    assert request_counts(sandbox, LIST) == {"429": 1, "200": 1}
    assert len(sleeps.waits) == 1
    assert 3.0 <= sleeps.waits[0] < 3.1  # Retry-After, not the 10 ms backoff
    assert client.stats["retries"] == 1


def test_429_beyond_the_time_budget_is_raised_with_retry_after(sandbox, make_client, sleeps):
    client = make_client(retry_policy=RetryPolicy(max_retries=3, max_retry_time=5.0, sleep=sleeps))
    sandbox.admin.queue_fault("status", operation=LIST, status=429, retry_after=30)
    with pytest.raises(NexmoThrottledError) as info:
        client.list_owned_numbers()
    assert info.value.retry_after == 30.0
    assert "retry_after=30s" in str(info.value)
    assert sleeps.waits == []


def test_gateway_quota_with_real_waits(sandbox, make_client):
    """Over the KPN quota (2 req/s): 429 with Retry-After and quota headers; the client waits and succeeds."""
    sandbox.admin.set_quota(rps=2)
    client = make_client(real_sleep=True, max_retries=4)
    started = time.monotonic()
    for _ in range(4):
        client.list_owned_numbers(size=1)
    elapsed = time.monotonic() - started
    counts = request_counts(sandbox, LIST)
    assert counts["200"] == 4
    assert counts.get("429", 0) >= 1
    assert client.stats["retries"] == counts["429"]
    assert elapsed < 5.0


def test_limiter_waits_for_the_quota_reset_instead_of_getting_429(sandbox, make_client):
    """A limiter set above the gateway quota still gets no 429: when a response says the window's quota is
    used up (quota-used >= quota-limit), the next request waits for quota-reset-UTC."""
    sandbox.admin.set_quota(rps=5)
    client = make_client(rate_limit=20.0)
    started = time.monotonic()
    for _ in range(12):
        client.list_owned_numbers(size=1)
    elapsed = time.monotonic() - started
    assert request_counts(sandbox, LIST) == {"200": 12}
    assert 1.0 < elapsed < 3.5  # 12 requests at 5 per window: the third window is reached


def test_client_side_rate_limit_stays_under_the_quota(sandbox, make_client):
    sandbox.admin.set_quota(rps=5)
    client = make_client(rate_limit=4.0)
    for _ in range(6):
        client.list_owned_numbers(size=1)
    assert request_counts(sandbox, LIST) == {"200": 6}


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_on_reads_is_retried(sandbox, make_client, sleeps, status):
    client = make_client()
    sandbox.admin.queue_fault("status", operation=LIST, status=status, count=2)
    client.list_owned_numbers()
    assert request_counts(sandbox, LIST) == {str(status): 2, "200": 1}
    assert len(sleeps.waits) == 2
    assert client.stats["retries"] == 2


def test_5xx_gives_up_after_max_retries(sandbox, make_client, sleeps):
    client = make_client(max_retries=2)
    sandbox.admin.queue_fault("status", operation=LIST, status=503, count=10)
    with pytest.raises(NexmoServerError) as info:
        client.list_owned_numbers()
    assert info.value.status == 503
    assert info.value.operation == LIST
    assert request_counts(sandbox, LIST) == {"503": 3}
    assert len(sleeps.waits) == 2


def test_other_4xx_are_not_retried(sandbox, make_client):
    client = make_client()
    sandbox.admin.queue_fault("status", operation=LIST, status=404)
    with pytest.raises(Exception, match="http_status=404"):
        client.list_owned_numbers()
    assert request_counts(sandbox, LIST) == {"404": 1}


def test_hanging_endpoint_times_out_and_is_retried(sandbox, make_client):
    client = make_client(timeout=(2.0, 0.3))
    sandbox.admin.queue_fault("hang", operation=LIST, seconds=1.2)
    started = time.monotonic()
    client.list_owned_numbers()
    assert time.monotonic() - started < 1.1  # did not wait for the hung answer
    assert client.stats["retries"] == 1
    assert wait_for_answers(sandbox, LIST, 2) == {"200": 2}  # the hung one answered, to nobody


def test_hanging_endpoint_gives_up_with_a_transport_error(sandbox, make_client):
    client = make_client(timeout=(2.0, 0.2), max_retries=1)
    sandbox.admin.queue_fault("hang", operation=LIST, seconds=1.2, count=2)
    started = time.monotonic()
    with pytest.raises(NexmoTransportError) as info:
        client.list_owned_numbers()
    assert time.monotonic() - started < 1.1
    assert info.value.sent is True
    assert "read timeout" in str(info.value)
    wait_for_answers(sandbox, LIST, 2)


def test_connection_refused_is_a_transport_error(make_client):
    client = make_client(base_url="http://127.0.0.1:9/api", max_retries=1)
    client.tokens.get_token()  # the token URL is the sandbox's; the API host refuses connections
    with pytest.raises(NexmoTransportError) as info:
        client.list_owned_numbers()
    assert info.value.sent is False
    assert client.stats["retries"] == 1  # never sent, so retried even though nothing answered


# -- the token endpoint fails: one retry loop per operation, grants included ---------------------------------


def _list_or_buy(client, sandbox, call):
    if call == "list":
        return client.list_owned_numbers()
    return client.buy_number("GB", pick_available(sandbox)["msisdn"])


@pytest.mark.parametrize("call", ["list", "buy"])
def test_token_outage_costs_at_most_max_retries_plus_one_grants(sandbox, make_client, sleeps, call):
    """Not (max_retries + 1) ** 2 grants, and a purchase whose grant failed needs no ownership look-up."""
    client = make_client(max_retries=2)
    available = pick_available(sandbox)
    sandbox.admin.queue_fault("status", operation="token", status=503, count=50)
    with pytest.raises(NexmoServerError) as info:
        _list_or_buy(client, sandbox, call)
    assert info.value.operation == "token"
    assert request_counts(sandbox, "token") == {"503": 3}
    assert sandbox.admin.stats()["api_requests"] == 0
    assert len(sleeps.waits) == 2
    assert client.stats == {"requests": 0, "token_fetches": 3, "retries": 2}
    assert available["msisdn"] not in sandbox.admin.stats()["purchases"]


@pytest.mark.parametrize("call", ["list", "buy"])
def test_hanging_token_endpoint_costs_attempts_times_timeout(sandbox, make_client, sleeps, call):
    """The time bound is (max_retries + 1) * timeout + backoff (here recorded, not slept)."""
    timeout, attempts = 0.3, 3
    client = make_client(timeout=(2.0, timeout), max_retries=attempts - 1)
    sandbox.admin.queue_fault("hang", operation="token", seconds=1.0, count=50)
    started = time.monotonic()
    with pytest.raises(NexmoTransportError) as info:
        _list_or_buy(client, sandbox, call)
    elapsed = time.monotonic() - started
    assert info.value.operation == "token"
    assert "read timeout" in str(info.value)
    # Nested retries took attempts ** 2 * timeout = 2.7 s (more for a purchase's look-ups).
    assert attempts * timeout * 0.95 <= elapsed < attempts * timeout + sum(sleeps.waits) + 0.8
    assert client.stats == {"requests": 0, "token_fetches": attempts, "retries": attempts - 1}
    assert sandbox.admin.stats()["api_requests"] == 0
    sandbox.admin.reset()  # release the hung grants now, so their answers land in this test's stats
    assert wait_for_answers(sandbox, "token", attempts) == {"504": attempts}
