"""Turn HTTP outcomes into results or typed errors.

One place decides what a response means, for the token endpoint and the API alike: the status code, the
`error-code` inside an HTTP 200 (a 200 whose `error-code` is not "200" is a failure), Apigee fault bodies,
the field -> message maps of a 400, and how long the server asks us to wait (`Retry-After`, KPN's
`quota-reset-UTC`). Requests exceptions become `NexmoTransportError`, with `sent` telling whether the
request may have reached the server, which is what decides if a purchase may be retried.
"""

from __future__ import annotations

import contextlib
import email.utils
import time
from datetime import datetime, timezone
from typing import Any

import requests

from airflow_provider_nexmo_numbers.client.budget import active_budget
from airflow_provider_nexmo_numbers.client.errors import (
    NexmoAuthError,
    NexmoMethodFailedError,
    NexmoNumbersError,
    NexmoServerError,
    NexmoThrottledError,
    NexmoTimeoutError,
    NexmoTransportError,
    NexmoValidationError,
)

__all__ = [
    "budget_exceeded",
    "error_for",
    "parse_json",
    "parse_moment",
    "parse_retry_after",
    "raise_for_response",
    "transport_error",
]


def _seconds_until(moment: float, now: float) -> float:
    return max(0.0, moment - now)


def parse_moment(text: str, now: float) -> float | None:
    """Seconds from `now` (epoch) until `text`: delta seconds, epoch seconds/milliseconds, HTTP date or
    ISO 8601."""
    text = text.strip()
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        number = None
    if number is not None:
        if number > 1e11:  # epoch milliseconds (Apigee style)
            return _seconds_until(number / 1000.0, now)
        if number > 1e9:  # epoch seconds
            return _seconds_until(number, now)
        return max(0.0, number)  # delta seconds
    with contextlib.suppress(TypeError, ValueError):
        parsed = email.utils.parsedate_to_datetime(text)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=timezone.utc)
        return _seconds_until(parsed.timestamp(), now)
    iso = text.replace(" UTC", "").replace("Z", "+00:00")
    with contextlib.suppress(ValueError):
        parsed = datetime.fromisoformat(iso)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=timezone.utc)
        return _seconds_until(parsed.timestamp(), now)
    return None


def parse_retry_after(headers: Any, *, now: float | None = None) -> float | None:
    """Seconds the server asks us to wait: `Retry-After`, or KPN's `quota-reset-UTC` when that is sooner
    (Retry-After is whole seconds, the reset is to the millisecond: a 429 near the end of a 1-s window need
    not cost a full second); None if neither. A reset already past is ignored when Retry-After is given (a
    skewed clock must not turn into retrying at once)."""
    now = time.time() if now is None else now
    waits = {}
    for name in ("Retry-After", "quota-reset-UTC"):
        value = headers.get(name)
        if value:
            waits[name] = parse_moment(str(value), now)
    retry_after, reset = waits.get("Retry-After"), waits.get("quota-reset-UTC")
    if retry_after is None:
        return reset
    if reset is not None and 0 < reset < retry_after:
        return reset
    return retry_after


def parse_json(response: requests.Response) -> Any:
    """The JSON body, or None when the body is empty or not JSON."""
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def _fault(body: Any) -> tuple[str | None, str | None]:
    """(error_code, label) from a Nexmo body or an Apigee fault / OAuth error body."""
    if not isinstance(body, dict):
        return None, None
    code = body.get("error-code")
    label = body.get("error-code-label")
    fault = body.get("fault")
    if isinstance(fault, dict):
        detail = fault.get("detail") if isinstance(fault.get("detail"), dict) else {}
        code = code or detail.get("errorcode")
        label = label or fault.get("faultstring")
    for key in ("error_description", "Error", "error", "message", "title", "detail"):
        if not label and isinstance(body.get(key), str):
            label = body[key]
    if not code:
        for key in ("ErrorCode", "error_code", "code"):
            if body.get(key) is not None:
                code = body[key]
                break
    return (None if code is None else str(code)), (None if label is None else str(label))


def _field_errors(body: Any) -> dict[str, str]:
    """A 400's `{"field": "message"}` map (values may be strings or lists of strings)."""
    if not isinstance(body, dict):
        return {}
    ignored = {"error-code", "error-code-label", "type", "title", "detail", "instance", "fault", "message"}
    result = {}
    for key, value in body.items():
        if key in ignored:
            continue
        if isinstance(value, str):
            result[key] = value
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            result[key] = "; ".join(value)
    return result


def error_for(
    status: int,
    body: Any,
    *,
    operation: str,
    msisdn: str | None = None,
    retry_after: float | None = None,
    code_status: int | None = None,
) -> NexmoNumbersError:
    """The typed error for an HTTP status (or, with `code_status`, for the `error-code` of an HTTP 200)."""
    error_code, label = _fault(body)
    kind = code_status if code_status is not None else status
    context = {
        "operation": operation,
        "status": status,
        "error_code": error_code,
        "error_code_label": label,
        "msisdn": msisdn,
        "retry_after": retry_after,
    }
    if kind == 400:
        fields = _field_errors(body)
        if fields:
            field, message = next(iter(fields.items()))
            summary = "; ".join(f"{k}: {v}" for k, v in fields.items())
            return NexmoValidationError(
                f"the API rejected the request: {summary}", field=field, rule=message, **context
            )
        return NexmoValidationError(
            f"the API rejected the request as malformed: {label or 'bad request'}",
            field="request",
            rule=label or "bad request",
            **context,
        )
    if kind in (401, 403):
        return NexmoAuthError(
            "authentication failed: the gateway refused the client credentials or the access token", **context
        )
    if kind == 420:
        return NexmoMethodFailedError(f"the API refused the operation: {label or 'method failed'}", **context)
    if kind == 429:
        return NexmoThrottledError("throttled by the gateway quota; the request was not processed", **context)
    if kind == 404:
        return NexmoNumbersError("not found: check the base URL of the connection", **context)
    if 500 <= kind <= 599:
        return NexmoServerError("server error from the gateway or the Numbers API", **context)
    return NexmoNumbersError(f"unexpected answer from the API: {label or 'no details'}", **context)


def raise_for_response(response: requests.Response, *, operation: str, msisdn: str | None = None) -> Any:
    """Return the parsed JSON body of a successful response, or raise the typed error it represents."""
    status = response.status_code
    body = parse_json(response)
    retry_after = parse_retry_after(response.headers) if status in (429, 503) or status >= 500 else None
    if status >= 400 or status < 200:
        raise error_for(status, body, operation=operation, msisdn=msisdn, retry_after=retry_after)
    if response.content and body is None:
        raise NexmoServerError(
            "the API answered with a body that is not JSON (a proxy error page?)",
            operation=operation,
            status=status,
            msisdn=msisdn,
        )
    if isinstance(body, dict) and "error-code" in body and str(body["error-code"]).strip() != "200":
        code = str(body["error-code"]).strip()
        code_status = int(code) if code.isdigit() else 0
        raise error_for(
            status, body, operation=operation, msisdn=msisdn, retry_after=retry_after, code_status=code_status
        )
    return body


def budget_exceeded(
    *, operation: str, msisdn: str | None = None, timeout: Any = None, sent: bool = True
) -> NexmoTimeoutError | None:
    """The error for a call whose time budget has run out, or None while it has not. Also for an answer
    that "arrived": one cut off at the deadline may look complete (headers ended by the cut), so nothing
    read after the deadline is trusted."""
    budget = active_budget()
    if budget is None or not budget.expired:
        return None
    return NexmoTimeoutError(
        f"no complete answer within this call's time budget of {budget.seconds:g} s (max_retry_time): "
        f"the server answered too slowly or trickled its answer (timeout={timeout} limits each read, not "
        "the whole answer)" + ("; the request may have been processed" if sent else ""),
        sent=sent,
        retryable=False,
        operation=operation,
        msisdn=msisdn,
    )


def transport_error(
    exc: requests.RequestException, *, operation: str, msisdn: str | None = None, timeout: Any = None
) -> NexmoTransportError:
    """A `NexmoTransportError` for a requests exception; `sent=False` only when the request surely never
    left."""
    context = {"operation": operation, "msisdn": msisdn}
    cut_off = budget_exceeded(
        operation=operation, msisdn=msisdn, timeout=timeout,
        sent=not isinstance(exc, requests.exceptions.ConnectTimeout),
    )  # fmt: skip
    if cut_off is not None:
        return cut_off
    if isinstance(exc, requests.exceptions.SSLError):
        return NexmoTransportError(f"TLS failure: {exc}", sent=False, retryable=False, **context)
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return NexmoTransportError(f"connect timeout (timeout={timeout})", sent=False, **context)
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return NexmoTransportError(
            f"no answer within the read timeout (timeout={timeout}); the request may have been processed",
            sent=True,
            **context,
        )
    if isinstance(exc, requests.exceptions.ConnectionError) and _never_connected(exc):
        return NexmoTransportError(f"could not connect: {exc}", sent=False, **context)
    return NexmoTransportError(
        f"connection failed before an answer arrived ({type(exc).__name__}: {exc}); "
        "the request may have been processed",
        sent=True,
        **context,
    )


def _never_connected(exc: BaseException) -> bool:
    """True when urllib3 failed before the request could be written (DNS, refused, connect timeout)."""
    from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

    seen: set[int] = set()
    stack: list[Any] = [exc]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, (NewConnectionError, ConnectTimeoutError)):
            return True
        stack.extend(getattr(current, "args", ()) or ())
        stack.append(getattr(current, "reason", None))
        stack.append(current.__cause__ if isinstance(current, BaseException) else None)
        stack.append(current.__context__ if isinstance(current, BaseException) else None)
    return False
