"""Typed errors of the Numbers API client.

Every error carries what a user needs to act without reading logs of the wire: the operation, the HTTP
status, the API's `error-code` and `error-code-label`, the number concerned and, for throttling, how long
to wait. Users catch the subclasses (`NexmoMethodFailedError` for the infamous 420 "method failed",
`NexmoThrottledError` for 429, ...) or the base class for all of them.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "NexmoAuthError",
    "NexmoMethodFailedError",
    "NexmoNumberNotFoundError",
    "NexmoNumbersError",
    "NexmoServerError",
    "NexmoThrottledError",
    "NexmoTimeoutError",
    "NexmoTransportError",
    "NexmoUpdateNotAppliedError",
    "NexmoValidationError",
]


class NexmoNumbersError(Exception):
    """Base class of every error raised by the client.

    The message always names the operation and, when known, the HTTP status, the API's `error-code` and
    `error-code-label` and the msisdn, because "420 method failed" alone is the complaint users make most.
    """

    def __init__(
        self,
        message: str,
        *,
        operation: str | None = None,
        status: int | None = None,
        error_code: str | None = None,
        error_code_label: str | None = None,
        msisdn: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.detail = message
        self.operation = operation
        self.status = status
        self.error_code = error_code
        self.error_code_label = error_code_label
        self.msisdn = msisdn
        self.retry_after = retry_after
        super().__init__(self._render())

    def _context(self) -> dict[str, Any]:
        return {
            "operation": self.operation,
            "status": self.status,
            "error_code": self.error_code,
            "error_code_label": self.error_code_label,
            "msisdn": self.msisdn,
            "retry_after": self.retry_after,
        }

    def _render(self) -> str:
        parts = []
        if self.operation:
            parts.append(f"operation={self.operation}")
        if self.msisdn:
            parts.append(f"msisdn={self.msisdn}")
        if self.status is not None:
            parts.append(f"http_status={self.status}")
        if self.error_code is not None:
            parts.append(f"error-code={self.error_code}")
        if self.error_code_label:
            parts.append(f"error-code-label={self.error_code_label!r}")
        if self.retry_after is not None:
            parts.append(f"retry_after={self.retry_after:g}s")
        return f"{self.detail} ({', '.join(parts)})" if parts else self.detail

    def __reduce__(self):
        # Keyword-only constructor arguments do not survive the default Exception pickling; Airflow may
        # pickle exceptions across process boundaries, so rebuild from the message and the attributes.
        return (_rebuild, (type(self), self.detail, self._context(), self._extra_state()))

    def _extra_state(self) -> dict[str, Any]:
        return {}


def _rebuild(cls: type[NexmoNumbersError], message: str, context: dict[str, Any], extra: dict[str, Any]):
    return cls(message, **context, **extra)


class NexmoAuthError(NexmoNumbersError):
    """401 or 403: bad client credentials, or a token the gateway refuses even after one renewal."""


class NexmoMethodFailedError(NexmoNumbersError):
    """HTTP 420 (or `error-code` 420): buying a number that is not available or already owned, cancelling a
    number not owned, no credit, a failed webhook readiness check, or an address-required country."""


class NexmoThrottledError(NexmoNumbersError):
    """429: over the gateway quota. Never processed by the API, so safe to retry after `retry_after`."""


class NexmoServerError(NexmoNumbersError):
    """5xx from the gateway or the upstream API."""


class NexmoTransportError(NexmoNumbersError):
    """No HTTP answer: connection refused or dropped, or a connect/read timeout.

    `sent` tells whether the request may have reached the server (a read timeout or a dropped connection)
    or certainly did not (a refused connection or a connect timeout); only the former is ambiguous for a
    purchase. `retryable` is False for failures that repeating cannot fix (a TLS certificate error).
    """

    def __init__(self, message: str, *, sent: bool = True, retryable: bool = True, **context: Any) -> None:
        self.sent = sent
        self.retryable = retryable
        super().__init__(message, **context)

    def _extra_state(self) -> dict[str, Any]:
        return {"sent": self.sent, "retryable": self.retryable}


class NexmoTimeoutError(NexmoTransportError):
    """The call's time budget (`max_retry_time`) ran out before a complete answer arrived: a server that
    answers too slowly, or trickles its answer, is cut off at the deadline instead of holding the call.
    Not retried (the budget is spent); like any read timeout the request may have been processed."""


class NexmoValidationError(NexmoNumbersError, ValueError):
    """Bad input, found by the client before any request (or reported by the API with HTTP 400).

    `field` names the offending parameter and `rule` the rule it broke; both are in the message.
    """

    def __init__(self, message: str | None = None, *, field: str, rule: str, **context: Any) -> None:
        self.field = field
        self.rule = rule
        super().__init__(message or f"invalid {field}: {rule}", **context)

    def _render(self) -> str:
        base = super()._render()
        prefix = f"[field={self.field}, rule={self.rule}] "
        return base if self.field in base and self.rule in base else prefix + base

    def _extra_state(self) -> dict[str, Any]:
        return {"field": self.field, "rule": self.rule}


class NexmoNumberNotFoundError(NexmoNumbersError):
    """The account does not own the msisdn asked for (there is no get-one endpoint; we list and match)."""


class NexmoUpdateNotAppliedError(NexmoNumbersError):
    """The API answered success to an update but reading the number back shows different values.

    `mismatches` maps each Python field name to `(expected, actual)`.
    """

    def __init__(
        self, message: str, *, mismatches: dict[str, tuple[Any, Any]] | None = None, **context: Any
    ) -> None:
        self.mismatches = dict(mismatches or {})
        super().__init__(message, **context)

    def _extra_state(self) -> dict[str, Any]:
        return {"mismatches": self.mismatches}
