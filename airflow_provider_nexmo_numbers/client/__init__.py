"""The Nexmo (Vonage) Numbers API client, as sold through the KPN API Store. No Airflow imports.

from airflow_provider_nexmo_numbers.client import NexmoNumbersClient

with NexmoNumbersClient("client-id", "client-secret") as client:
    for number in client.iter_owned_numbers():
        print(number.msisdn, number.features)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Where each public name lives. Resolved on first attribute access (PEP 562): operators import
# `client.validation` while a DAG file is parsed, and that must not drag in requests, tenacity and pydantic.
_EXPORTS = {
    "TokenSource": "auth",
    "DEFAULT_BASE_URL": "client",
    "DEFAULT_MAX_RETRIES": "client",
    "DEFAULT_MAX_RETRY_TIME": "client",
    "DEFAULT_RATE_LIMIT": "client",
    "DEFAULT_TIMEOUT": "client",
    "DEFAULT_TOKEN_URL": "client",
    "NexmoNumbersClient": "client",
    "NexmoAuthError": "errors",
    "NexmoMethodFailedError": "errors",
    "NexmoNumberNotFoundError": "errors",
    "NexmoNumbersError": "errors",
    "NexmoServerError": "errors",
    "NexmoThrottledError": "errors",
    "NexmoTransportError": "errors",
    "NexmoUpdateNotAppliedError": "errors",
    "NexmoValidationError": "errors",
    "AvailableNumber": "models",
    "BuyResult": "models",
    "CancelResult": "models",
    "NumberPage": "models",
    "OwnedNumber": "models",
    "RateLimiter": "ratelimit",
    "RetryPolicy": "retry",
    "SearchPattern": "validation",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


if TYPE_CHECKING:
    from airflow_provider_nexmo_numbers.client.auth import TokenSource
    from airflow_provider_nexmo_numbers.client.client import (
        DEFAULT_BASE_URL,
        DEFAULT_MAX_RETRIES,
        DEFAULT_MAX_RETRY_TIME,
        DEFAULT_RATE_LIMIT,
        DEFAULT_TIMEOUT,
        DEFAULT_TOKEN_URL,
        NexmoNumbersClient,
    )
    from airflow_provider_nexmo_numbers.client.errors import (
        NexmoAuthError,
        NexmoMethodFailedError,
        NexmoNumberNotFoundError,
        NexmoNumbersError,
        NexmoServerError,
        NexmoThrottledError,
        NexmoTransportError,
        NexmoUpdateNotAppliedError,
        NexmoValidationError,
    )
    from airflow_provider_nexmo_numbers.client.models import (
        AvailableNumber,
        BuyResult,
        CancelResult,
        NumberPage,
        OwnedNumber,
    )
    from airflow_provider_nexmo_numbers.client.ratelimit import RateLimiter
    from airflow_provider_nexmo_numbers.client.retry import RetryPolicy
    from airflow_provider_nexmo_numbers.client.validation import SearchPattern

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_MAX_RETRY_TIME",
    "DEFAULT_RATE_LIMIT",
    "DEFAULT_TIMEOUT",
    "DEFAULT_TOKEN_URL",
    "AvailableNumber",
    "BuyResult",
    "CancelResult",
    "NexmoAuthError",
    "NexmoMethodFailedError",
    "NexmoNumberNotFoundError",
    "NexmoNumbersClient",
    "NexmoNumbersError",
    "NexmoServerError",
    "NexmoThrottledError",
    "NexmoTransportError",
    "NexmoUpdateNotAppliedError",
    "NexmoValidationError",
    "NumberPage",
    "OwnedNumber",
    "RateLimiter",
    "RetryPolicy",
    "SearchPattern",
    "TokenSource",
]
