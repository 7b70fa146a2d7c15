"""Every call ends within its time budget (`max_retry_time`), slow bodies and token grants included; absurd
token lifetimes do not turn into a grant per call. Against a hostile stdlib server on loopback.

Before the fix, a body trickled at one byte a second never tripped the per-read timeout (2 s) and held the
call for the whole body, a used-up daily quota paused the next call for hours, and `expires_in: "1e-9"`
cost one grant per request. Durations are asserted loosely (budget plus generous slack), never as a race.
"""

from __future__ import annotations

import logging

import pytest

from airflow_provider_nexmo_numbers.client import (
    NexmoNumbersClient,
    NexmoThrottledError,
    NexmoTimeoutError,
)
from tests.client.hostile_server import HostileServer, run_bounded

BUDGET = 3.0
SLACK = 6.0  # a loaded machine; the defect held calls for 30 s and more
LIST = "/account/numbers"
TOKEN = "/oauth/token"


@pytest.fixture
def hostile():
    server = HostileServer()
    yield server
    server.close()


def _client(server: HostileServer, **overrides) -> NexmoNumbersClient:
    kwargs = {
        "base_url": server.url,
        "token_url": server.url + TOKEN,
        "timeout": (2.0, 2.0),
        "max_retry_time": BUDGET,
        "backoff_base": 0.05,
        "share_tokens": False,
    }
    kwargs.update(overrides)
    return NexmoNumbersClient("id", "secret", **kwargs)


@pytest.mark.parametrize("mode", ["trickle-body", "trickle-headers"])
def test_a_trickling_answer_is_cut_off_at_the_budget(hostile, mode):
    hostile.behaviour[LIST] = mode
    client = _client(hostile)
    _, error, elapsed = run_bounded(client.list_owned_numbers, BUDGET + SLACK)
    assert isinstance(error, NexmoTimeoutError), error
    assert "time budget of 3 s" in str(error)
    assert error.operation == "GET /account/numbers"
    assert elapsed < BUDGET + SLACK
    assert hostile.hits[LIST] == 1  # the budget is spent: no retry
    client.close()


def test_a_trickling_token_endpoint_is_cut_off_at_the_budget(hostile):
    hostile.behaviour[TOKEN] = "trickle-body"
    client = _client(hostile)
    _, error, elapsed = run_bounded(client.list_owned_numbers, BUDGET + SLACK)
    assert isinstance(error, NexmoTimeoutError), error
    assert error.operation == "token"
    assert elapsed < BUDGET + SLACK
    assert hostile.hits[LIST] == 0
    client.close()


def test_the_connection_is_usable_after_a_call_that_was_cut_off(hostile):
    hostile.behaviour[LIST] = "trickle-body"
    client = _client(hostile)
    _, error, _ = run_bounded(client.list_owned_numbers, BUDGET + SLACK)
    assert isinstance(error, NexmoTimeoutError)
    hostile.behaviour[LIST] = "ok"
    page, error, _ = run_bounded(client.list_owned_numbers, BUDGET + SLACK)
    assert error is None
    assert page.count == 0
    client.close()


def test_a_200_with_a_used_up_daily_quota_fails_the_next_call_fast(hostile):
    """The first answer says the project's daily quota is used up, resetting in 3 hours: the next call is
    not sent and fails at once, saying until when, instead of sleeping past its budget."""
    hostile.behaviour[LIST] = "quota-used-up"
    client = _client(hostile)
    client.list_owned_numbers()
    _, error, elapsed = run_bounded(client.list_owned_numbers, BUDGET + SLACK)
    assert isinstance(error, NexmoThrottledError), error
    assert "quota (1000 requests per 86400 s) is used up until" in str(error)
    assert error.retry_after == pytest.approx(3 * 3600, abs=5)
    assert elapsed < BUDGET
    assert hostile.hits[LIST] == 1
    client.close()


@pytest.mark.parametrize("expires_in", ["1e-9", "0", "-30", "soon", None, "inf", "nan"])
def test_an_absurd_token_lifetime_is_not_a_grant_per_call(hostile, caplog, expires_in):
    hostile.token_expires_in = expires_in
    caplog.set_level(logging.DEBUG, logger="airflow_provider_nexmo_numbers.client.auth")
    clients = [_client(hostile), _client(hostile)]
    for client in clients:  # two private token slots: two grants
        for _ in range(5):
            client.list_owned_numbers()
    assert hostile.hits[TOKEN] == 2
    assert hostile.hits[LIST] == 10
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "expires_in" in r.getMessage()]
    assert len(warnings) == 1  # logged once, not per grant
    for client in clients:
        client.close()
