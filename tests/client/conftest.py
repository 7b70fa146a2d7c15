"""Clients wired to the test sandbox with fast, bounded retries (and no client-side rate limit by default)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from airflow_provider_nexmo_numbers.client import NexmoNumbersClient, RetryPolicy


class SleepRecorder:
    """Stands in for time.sleep in retry policies: records the requested waits, returns at once."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
def make_client(sandbox: Any, sleeps: SleepRecorder) -> Iterator[Callable[..., NexmoNumbersClient]]:
    """Factory of clients for the sandbox. Retries wait through `sleeps` (no real sleep) unless
    `real_sleep=True`; keyword arguments override the client's."""
    clients: list[NexmoNumbersClient] = []

    def make(*, max_retries: int = 3, real_sleep: bool = False, **overrides: Any) -> NexmoNumbersClient:
        kwargs: dict[str, Any] = {
            "base_url": sandbox.base_url,
            "token_url": sandbox.token_url,
            "rate_limit": 0,
            "timeout": (2.0, 5.0),
        }
        if "retry_policy" not in overrides:
            policy_kwargs: dict[str, Any] = {"max_retries": max_retries, "backoff_base": 0.01,
                                             "backoff_max": 0.05, "rng": random.Random(3)}  # fmt: skip
            if not real_sleep:
                policy_kwargs["sleep"] = sleeps
            kwargs["retry_policy"] = RetryPolicy(**policy_kwargs)
        kwargs.update(overrides)
        client = NexmoNumbersClient(
            kwargs.pop("client_id", sandbox.client_id),
            kwargs.pop("client_secret", sandbox.client_secret),
            **kwargs,
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def request_counts(sandbox: Any, operation: str) -> dict[str, int]:
    """The sandbox's answer counts by status for one operation, e.g. {"200": 2, "401": 1}."""
    return dict(sandbox.admin.stats()["requests"].get(operation, {}))


def pick_available(sandbox: Any, country: str = "GB") -> dict[str, Any]:
    """An available number from the sandbox pool (wire names)."""
    return sandbox.admin.pool(country)[0]


def wait_for_answers(sandbox: Any, operation: str, total: int, timeout: float = 5.0) -> dict[str, int]:
    """Wait until the sandbox has answered `total` requests of `operation` (e.g. a hung request finishing
    after the client gave up on it), so its answer is not counted in the next test's fresh stats."""
    deadline = time.monotonic() + timeout
    counts = request_counts(sandbox, operation)
    while sum(counts.values()) < total and time.monotonic() < deadline:
        time.sleep(0.05)
        counts = request_counts(sandbox, operation)
    return counts
