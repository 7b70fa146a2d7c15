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
    "DEFAULT_BACKOFF_BASE": "client",
    "DEFAULT_BACKOFF_MAX": "client",
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
    "NexmoTimeoutError": "errors",
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
    "clear_shared_tokens": "token_registry",
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


__all__ = list(_EXPORTS)

# What static tools (type checkers, IDEs) see, as re-exports: `__getattr__` alone types every name as Any.
# The star imports take exactly the modules' `__all__`, which a test keeps equal to their names in `_EXPORTS`.
if TYPE_CHECKING:
    from airflow_provider_nexmo_numbers.client.auth import TokenSource as TokenSource
    from airflow_provider_nexmo_numbers.client.client import *  # noqa: F403
    from airflow_provider_nexmo_numbers.client.errors import *  # noqa: F403
    from airflow_provider_nexmo_numbers.client.models import *  # noqa: F403
    from airflow_provider_nexmo_numbers.client.ratelimit import RateLimiter as RateLimiter
    from airflow_provider_nexmo_numbers.client.retry import RetryPolicy as RetryPolicy
    from airflow_provider_nexmo_numbers.client.token_registry import (
        clear_shared_tokens as clear_shared_tokens,
    )
    from airflow_provider_nexmo_numbers.client.validation import SearchPattern as SearchPattern
