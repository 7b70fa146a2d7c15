"""When and how long to retry, as data.

`RetryPolicy` holds the numbers (attempts, total time, backoff) and builds a tenacity `Retrying` for one
call. What is retried:
- 429 always: a throttled request was never processed, so repeating it is safe even for a purchase.
- 500/502/503/504 and transport errors only for requests that are safe to repeat (`idempotent=True`), plus
  transport errors that certainly never reached the server (connection refused, connect timeout).
- Nothing else (400, 401/403 after the client's own token renewal, 404, 420 ...). How long: `Retry-After`
  (or the KPN quota reset) when the server says so, otherwise exponential backoff with jitter; never
  beyond `max_retries` retries nor beyond `max_retry_time` seconds (a wait that would cross the budget
  ends the retries at once with the last error, instead of sleeping in vain). `call` runs the whole call in
  a `budget.Budget` of `max_retry_time`, which also bounds each request and the reading of its answer.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import tenacity

from airflow_provider_nexmo_numbers.client.budget import Budget, active_budget
from airflow_provider_nexmo_numbers.client.errors import (
    NexmoServerError,
    NexmoThrottledError,
    NexmoTransportError,
)

__all__ = ["DEFAULT_RETRY_STATUSES", "DoNotRetry", "RetryPolicy"]

R = TypeVar("R")

DEFAULT_RETRY_STATUSES: frozenset[int] = frozenset({429, 500, 502, 503, 504})


class DoNotRetry(Exception):
    """Wraps an error that must end the retries even though its type is retryable (e.g. a purchase whose
    outcome could not be verified). `RetryPolicy.call` unwraps and raises `error`."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


@dataclass(frozen=True)
class RetryPolicy:
    """Retry bounds and backoff shape.

    `max_retries` counts retries after the first attempt (so at most `max_retries + 1` requests);
    `max_retry_time` bounds the whole call including waits. Backoff for retry n is `min(backoff_max,
    backoff_base * 2 ** (n - 1))` scaled by a random factor in [0.5, 1.0] (jitter keeps parallel workers
    from retrying in lockstep). `sleep` is injectable so tests never wait for real.
    """

    max_retries: int = 5
    max_retry_time: float = 120.0
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    retry_statuses: frozenset[int] = DEFAULT_RETRY_STATUSES
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False, compare=False)
    rng: random.Random = field(default_factory=random.Random, repr=False, compare=False)

    def __post_init__(self) -> None:
        if (
            isinstance(self.max_retries, bool)
            or not isinstance(self.max_retries, int)
            or self.max_retries < 0
        ):
            raise ValueError(f"max_retries must be an integer >= 0, got {self.max_retries!r}")
        if self.max_retry_time <= 0:
            raise ValueError(f"max_retry_time must be > 0 seconds, got {self.max_retry_time!r}")
        if self.backoff_base < 0:
            raise ValueError(f"backoff_base must be >= 0 seconds, got {self.backoff_base!r}")
        if self.backoff_max < 0:
            raise ValueError(f"backoff_max must be >= 0 seconds, got {self.backoff_max!r}")

    def should_retry(self, error: BaseException, *, idempotent: bool) -> bool:
        """Whether `error` may be retried for a request that is (or is not) safe to repeat."""
        if isinstance(error, NexmoThrottledError):
            return 429 in self.retry_statuses
        if isinstance(error, NexmoTransportError):
            return error.retryable and (idempotent or not error.sent)
        if isinstance(error, NexmoServerError):
            return idempotent and error.status in self.retry_statuses
        return False

    def backoff(self, retry_number: int) -> float:
        """Seconds to wait before retry number `retry_number` (1-based) when the server gave no hint."""
        ceiling = min(self.backoff_max, self.backoff_base * (2 ** max(retry_number - 1, 0)))
        return ceiling * self.rng.uniform(0.5, 1.0)

    def wait_for(self, error: BaseException | None, retry_number: int) -> float:
        """Retry-After / quota reset when present (plus a little jitter), else the exponential backoff."""
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            return max(float(retry_after), 0.0) + self.rng.uniform(0.0, self.backoff_base * 0.1)
        return self.backoff(retry_number)

    def retrying(
        self, *, idempotent: bool, on_retry: Callable[[BaseException, float], None] | None = None
    ) -> tenacity.Retrying:
        """A tenacity `Retrying` implementing this policy for one call."""

        def retry(state: tenacity.RetryCallState) -> bool:
            outcome = state.outcome
            return bool(
                outcome is not None
                and outcome.failed
                and self.should_retry(outcome.exception(), idempotent=idempotent)
            )

        def wait(state: tenacity.RetryCallState) -> float:
            error = state.outcome.exception() if state.outcome is not None else None
            return self.wait_for(error, state.attempt_number)

        def stop(state: tenacity.RetryCallState) -> bool:
            if state.attempt_number > self.max_retries:
                return True
            upcoming = getattr(state, "upcoming_sleep", 0.0) or 0.0
            budget = active_budget()
            if budget is not None:
                return upcoming >= budget.remaining()
            elapsed = state.seconds_since_start or 0.0
            return elapsed + upcoming > self.max_retry_time

        def before_sleep(state: tenacity.RetryCallState) -> None:
            if on_retry is not None and state.outcome is not None:
                on_retry(state.outcome.exception(), getattr(state, "upcoming_sleep", 0.0) or 0.0)

        return tenacity.Retrying(
            retry=retry, wait=wait, stop=stop, sleep=self.sleep, before_sleep=before_sleep, reraise=True
        )

    def call(
        self,
        fn: Callable[[], R],
        *,
        idempotent: bool,
        on_retry: Callable[[BaseException, float], None] | None = None,
    ) -> R:
        """Run `fn` under this policy, inside a `Budget` of `max_retry_time` seconds that bounds its
        requests, waits and answers too; the last error is re-raised unchanged when retries end."""
        try:
            with Budget(self.max_retry_time).active():
                return self.retrying(idempotent=idempotent, on_retry=on_retry)(fn)
        except DoNotRetry as wrapped:
            raise wrapped.error from wrapped.error.__cause__
