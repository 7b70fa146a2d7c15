"""The Nexmo (Vonage) Numbers API client, as sold through the KPN API Store. No Airflow imports.

from airflow_provider_nexmo_numbers.client import NexmoNumbersClient

with NexmoNumbersClient("client-id", "client-secret") as client:
    for number in client.iter_owned_numbers():
        print(number.msisdn, number.features)
"""

from __future__ import annotations

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
