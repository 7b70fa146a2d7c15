"""The retry policy as data: what is retried, how long it waits, and the bounds. No real sleeping."""

from __future__ import annotations

import random

import pytest

from airflow_provider_nexmo_numbers.client import (
    NexmoAuthError,
    NexmoMethodFailedError,
    NexmoServerError,
    NexmoThrottledError,
    NexmoTransportError,
    NexmoValidationError,
    RetryPolicy,
)
from airflow_provider_nexmo_numbers.client.retry import DoNotRetry


class Recorder:
    def __init__(self):
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def _policy(**kwargs) -> tuple[RetryPolicy, Recorder]:
    sleep = Recorder()
    return RetryPolicy(sleep=sleep, rng=random.Random(1), **kwargs), sleep


def _failing(errors):
    calls = []

    def fn():
        calls.append(1)
        if len(calls) <= len(errors):
            raise errors[len(calls) - 1]
        return "ok"

    return fn, calls


@pytest.mark.parametrize(
    ("error", "idempotent", "expected"),
    [
        (NexmoThrottledError("t", status=429), False, True),
        (NexmoServerError("s", status=503), True, True),
        (NexmoServerError("s", status=503), False, False),
        (NexmoServerError("s", status=501), True, False),
        (NexmoTransportError("read timeout", sent=True), True, True),
        (NexmoTransportError("read timeout", sent=True), False, False),
        (NexmoTransportError("refused", sent=False), False, True),
        (NexmoTransportError("tls", sent=False, retryable=False), True, False),
        (NexmoAuthError("a", status=401), True, False),
        (NexmoMethodFailedError("m", status=420), True, False),
        (NexmoValidationError(field="f", rule="r"), True, False),
        (ValueError("other"), True, False),
    ],
)
def test_should_retry(error, idempotent, expected):
    assert RetryPolicy().should_retry(error, idempotent=idempotent) is expected


def test_retries_then_succeeds_with_growing_jittered_backoff():
    policy, sleep = _policy(max_retries=5, backoff_base=1.0, backoff_max=100.0)
    fn, calls = _failing([NexmoServerError("s", status=502)] * 3)
    assert policy.call(fn, idempotent=True) == "ok"
    assert len(calls) == 4
    assert len(sleep.waits) == 3
    for n, wait in enumerate(sleep.waits, start=1):
        ceiling = 2 ** (n - 1)
        assert ceiling * 0.5 <= wait <= ceiling


def test_backoff_is_capped():
    policy = RetryPolicy(backoff_base=1.0, backoff_max=4.0, rng=random.Random(2))
    assert all(policy.backoff(n) <= 4.0 for n in range(1, 30))


def test_gives_up_after_max_retries_with_the_last_error():
    policy, sleep = _policy(max_retries=2, backoff_base=0.01)
    last = NexmoServerError("third", status=500)
    fn, calls = _failing([NexmoServerError("1", status=500), NexmoServerError("2", status=500), last])
    with pytest.raises(NexmoServerError) as info:
        policy.call(fn, idempotent=True)
    assert info.value is last
    assert len(calls) == 3
    assert len(sleep.waits) == 2


def test_zero_retries_means_one_attempt():
    policy, sleep = _policy(max_retries=0)
    fn, calls = _failing([NexmoServerError("s", status=500)])
    with pytest.raises(NexmoServerError):
        policy.call(fn, idempotent=True)
    assert (len(calls), sleep.waits) == (1, [])


def test_retry_after_is_honoured():
    policy, sleep = _policy(max_retries=3, backoff_base=0.01)
    fn, _ = _failing([NexmoThrottledError("t", status=429, retry_after=7.0)])
    assert policy.call(fn, idempotent=False) == "ok"
    assert 7.0 <= sleep.waits[0] <= 7.0 + 0.01


def test_a_wait_beyond_the_time_budget_ends_retries_at_once():
    policy, sleep = _policy(max_retries=5, max_retry_time=10.0)
    error = NexmoThrottledError("t", status=429, retry_after=60.0)
    fn, calls = _failing([error])
    with pytest.raises(NexmoThrottledError) as info:
        policy.call(fn, idempotent=True)
    assert info.value.retry_after == 60.0
    assert (len(calls), sleep.waits) == (1, [])


def test_non_retryable_errors_are_raised_immediately():
    policy, sleep = _policy()
    fn, calls = _failing([NexmoMethodFailedError("m", status=420)])
    with pytest.raises(NexmoMethodFailedError):
        policy.call(fn, idempotent=True)
    assert (len(calls), sleep.waits) == (1, [])


def test_do_not_retry_unwraps():
    policy, _ = _policy()
    inner = NexmoServerError("s", status=500)

    def fn():
        raise DoNotRetry(inner)

    with pytest.raises(NexmoServerError) as info:
        policy.call(fn, idempotent=True)
    assert info.value is inner


def test_on_retry_callback_counts():
    policy, _ = _policy(backoff_base=0.0)
    seen = []
    fn, _ = _failing([NexmoTransportError("x", sent=False)] * 2)
    policy.call(fn, idempotent=False, on_retry=lambda error, wait: seen.append((type(error), wait)))
    assert [kind for kind, _ in seen] == [NexmoTransportError, NexmoTransportError]


@pytest.mark.parametrize("kwargs", [{"max_retries": -1}, {"max_retries": True}, {"max_retry_time": 0}])
def test_bad_bounds(kwargs):
    with pytest.raises(ValueError, match="max_retr"):
        RetryPolicy(**kwargs)
