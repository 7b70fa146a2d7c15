"""Validation of the webhook-readiness arguments, shared by the sensor and the trigger.

Free of Airflow and HTTP-library imports so both apply exactly the same rules and the sensor module stays
cheap to parse. Every error names the argument and the rule it broke, because a DAG author sees only the
message. URLs go through the client's `validate_url` too, so a webhook URL the sensor accepts is one the
Numbers API operators accept (and one with user:password@ is refused by both).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

DEFAULT_EXPECTED_STATUSES: tuple[int, ...] = (200,)
DEFAULT_REQUEST_TIMEOUT: float = 10.0
# Consecutive "can never be ready" answers (unknown DNS name, 401/403/...) before the wait fails: a DNS record
# or an auth rule being deployed gets a few polls, a typo does not get six hours.
DEFAULT_MAX_PERMANENT_FAILURES: int = 3
# Redirects followed per attempt; more is a loop or a misconfiguration.
MAX_REDIRECTS: int = 5
# The trigger never sleeps less than this between attempts, even with poke_interval=0, so a misconfigured
# sensor cannot spin the triggerer's event loop against an endpoint that is down.
MIN_TRIGGER_SLEEP: float = 0.1

# Header names whose values are credentials: their values are masked in logs and never echoed in errors.
_SENSITIVE_HEADER_WORDS = ("authorization", "token", "secret", "key", "cookie", "password", "signature")


class WebhookReadyConfigError(ValueError):
    """An invalid sensor/trigger argument; `field` names the argument and `rule` what it must satisfy."""

    def __init__(self, field: str, rule: str, value: Any = None, *, show_value: bool = True) -> None:
        self.field = field
        self.rule = rule
        shown = f" (got {_short_repr(value)})" if show_value else ""
        super().__init__(f"Invalid argument `{field}`: {rule}{shown}")


def _short_repr(value: Any, limit: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def is_templated(value: Any) -> bool:
    """True when `value` is still a Jinja template or a lazily resolved value (XComArg); check it later."""
    if isinstance(value, str):
        return "{{" in value or "{%" in value
    if isinstance(value, Mapping):
        return any(is_templated(v) for v in value.values())
    return hasattr(value, "resolve")


def _without_userinfo(url: str) -> str:
    """`url` as it may be echoed in an error: any user:password@ masked, even in a malformed URL."""
    return re.sub(r"//[^/?#]*@", "//***@", url)


def validate_url(url: Any) -> str:
    """Return `url` if it is an absolute http(s) URL with a host, else raise naming the field `url`."""
    if not isinstance(url, str) or not url.strip():
        raise WebhookReadyConfigError("url", "must be a non-empty string", url)
    shown = _without_userinfo(url)
    if url != url.strip() or any(ch.isspace() for ch in url):
        raise WebhookReadyConfigError("url", "must not contain whitespace", shown)
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError for a non-numeric or out-of-range port
    except ValueError as exc:
        raise WebhookReadyConfigError("url", f"must be a well-formed URL ({exc})", shown) from exc
    if parts.scheme.lower() not in ("http", "https"):
        raise WebhookReadyConfigError("url", "must be an absolute URL with scheme http:// or https://", shown)
    if not parts.hostname:
        raise WebhookReadyConfigError("url", "must name a host (e.g. https://example.com/hook)", shown)
    if port == 0:
        raise WebhookReadyConfigError("url", "must not use port 0", shown)
    from airflow_provider_nexmo_numbers.client.validation import validate_url as validate_api_url

    try:
        validate_api_url("url", url, allow_empty=False)
    except ValueError as exc:
        # The operators' rule book for webhook URLs: above all no user:password@, which would reach the task
        # log, the XCom and the rendered fields. Its message shows the URL with the userinfo masked.
        raise WebhookReadyConfigError("url", str(exc), show_value=False) from exc
    return url


def validate_expected_statuses(value: Any) -> tuple[int, ...]:
    """Normalise one status or an iterable of statuses to a sorted tuple of unique ints in 100..599."""
    if isinstance(value, (str, bytes)) or value is None:
        raise WebhookReadyConfigError("expected_statuses", "must be an int or an iterable of ints", value)
    items = [value] if isinstance(value, int) and not isinstance(value, bool) else value
    try:
        items = list(items)
    except TypeError as exc:
        raise WebhookReadyConfigError(
            "expected_statuses", "must be an int or an iterable of ints", value
        ) from exc
    if not items:
        raise WebhookReadyConfigError("expected_statuses", "must contain at least one status code", value)
    for item in items:
        if isinstance(item, bool) or not isinstance(item, int):
            raise WebhookReadyConfigError("expected_statuses", "must contain only ints", value)
        if not 100 <= item <= 599:
            raise WebhookReadyConfigError(
                "expected_statuses", "must contain HTTP status codes between 100 and 599", value
            )
    return tuple(sorted(set(items)))


def _number(field: str, value: Any) -> float:
    if isinstance(value, timedelta):
        value = value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise WebhookReadyConfigError(field, "must be a number of seconds or a timedelta", value)
    if not math.isfinite(value):
        raise WebhookReadyConfigError(field, "must be a finite number of seconds", value)
    return float(value)


def validate_request_timeout(value: Any) -> float:
    """The per-request timeout in seconds: a finite number > 0."""
    seconds = _number("request_timeout", value)
    if seconds <= 0:
        raise WebhookReadyConfigError("request_timeout", "must be greater than 0 seconds", value)
    return seconds


def validate_max_permanent_failures(value: Any) -> int:
    """How many consecutive "can never be ready" answers end the wait: an int >= 1."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise WebhookReadyConfigError("max_permanent_failures", "must be an int of 1 or more", value)
    return value


def validate_non_negative_seconds(field: str, value: Any) -> float:
    """`poke_interval` and `timeout`: a finite number of seconds (or timedelta) >= 0."""
    seconds = _number(field, value)
    if seconds < 0:
        raise WebhookReadyConfigError(field, "must be 0 or more seconds", value)
    return seconds


def validate_headers(value: Any) -> dict[str, str] | None:
    """None or a mapping of header name -> string value; values are never echoed (they may be credentials)."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise WebhookReadyConfigError("headers", "must be a mapping of header name to string value", value)
    result: dict[str, str] = {}
    for name, header_value in value.items():
        if not isinstance(name, str) or not name.strip() or any(ch in name for ch in ":\r\n "):
            raise WebhookReadyConfigError(
                "headers", "header names must be non-empty strings without spaces or ':'", name
            )
        if not isinstance(header_value, str):
            raise WebhookReadyConfigError(
                "headers", f"the value of header {name!r} must be a string", show_value=False
            )
        if "\r" in header_value or "\n" in header_value:
            raise WebhookReadyConfigError(
                "headers", f"the value of header {name!r} must not contain line breaks", show_value=False
            )
        result[name] = header_value
    return result


def sensitive_header_values(headers: Mapping[str, str] | None) -> list[str]:
    """Values of headers that look like credentials (Authorization, X-Api-Key, ...), for secret masking."""
    if not headers:
        return []
    return [
        value
        for name, value in headers.items()
        if value and any(word in name.lower() for word in _SENSITIVE_HEADER_WORDS)
    ]
