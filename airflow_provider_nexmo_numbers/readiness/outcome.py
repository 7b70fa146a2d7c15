"""What one readiness attempt found: ready, not ready yet, or an answer that means it can never be ready.

The sensor and the trigger wait through everything that a deployment in progress produces (connection
refused, TLS not set up yet, timeouts, 5xx, 404 while the route is not published, 408/425/429), but a DNS
name that does not exist, a URL the HTTP library refuses or a 4xx such as 401/403/405 will not fix itself
while we poll: waiting hours for them only hides a typo. Those are "permanent"; the caller fails after a
few of them in a row (see `max_permanent_failures`). Free of Airflow and HTTP-library imports.
"""

from __future__ import annotations

import enum
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

# 4xx answers that a webhook being deployed gives before its route is live; every other 4xx is permanent.
_TRANSIENT_4XX = frozenset({404, 408, 425, 429})
# getaddrinfo results that say "this name does not exist" (as opposed to EAI_AGAIN, a resolver hiccup).
_UNKNOWN_NAME_ERRNOS = frozenset(
    getattr(socket, name) for name in ("EAI_NONAME", "EAI_NODATA", "EAI_FAIL") if hasattr(socket, name)
)


class Verdict(enum.Enum):
    READY = "ready"
    NOT_READY = "not ready yet"
    PERMANENT = "can never be ready as configured"


@dataclass(frozen=True)
class Outcome:
    """One attempt: the final HTTP status (after redirects) or, without an answer, why not."""

    verdict: Verdict
    status_code: int | None = None
    reason: str | None = None

    @property
    def key(self) -> str:
        """A short label that groups alike attempts in the log summary ("HTTP 503", "ConnectError")."""
        if self.status_code is not None:
            return f"HTTP {self.status_code}"
        return (self.reason or "no answer").split(":", 1)[0]

    def describe(self) -> str:
        what = f"HTTP {self.status_code}" if self.status_code is not None else "no answer"
        detail = f" ({self.reason})" if self.reason else ""
        return f"{what}{detail}: {self.verdict.value}"


def classify_status(status_code: int, expected: Iterable[int]) -> Outcome:
    """The verdict for an HTTP answer."""
    if status_code in expected:
        return Outcome(Verdict.READY, status_code)
    if 400 <= status_code < 500 and status_code not in _TRANSIENT_4XX:
        return Outcome(
            Verdict.PERMANENT,
            status_code,
            "the endpoint answers but refuses this request; check the URL, headers and expected_statuses",
        )
    return Outcome(Verdict.NOT_READY, status_code)


def classify_error(exc: BaseException, *, invalid_url: bool = False) -> Outcome:
    """The verdict for a request that got no HTTP answer; `invalid_url` when the library refused the URL."""
    reason = describe_error(exc)
    if invalid_url:
        return Outcome(Verdict.PERMANENT, None, f"invalid URL: {reason}")
    gai = _find_cause(exc, socket.gaierror)
    if gai is not None and gai.errno in _UNKNOWN_NAME_ERRNOS:
        return Outcome(Verdict.PERMANENT, None, f"DNS name does not resolve: {describe_error(gai)}")
    return Outcome(Verdict.NOT_READY, None, reason)


def _find_cause(exc: BaseException, kind: type[BaseException]) -> BaseException | None:
    """The first exception of `kind` in `exc`'s cause/context chain (HTTP libraries wrap socket errors)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, kind):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def describe_error(exc: BaseException) -> str:
    """A compact one-line description of a transport error (class name + first line of its message)."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    name = type(exc).__name__
    return f"{name}: {text[:160]}" if text else name


def redact_url(url: str) -> str:
    """The URL for log lines and messages: query string and user info dropped, either may carry a secret."""
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    query = "?..." if parts.query else ""
    return f"{parts.scheme}://{netloc}{parts.path}{query}"


def same_origin(first: str, second: str) -> bool:
    """Scheme, host and port equal (default ports made explicit), as browsers and `requests` compare."""
    a, b = urlsplit(first), urlsplit(second)
    defaults = {"http": 80, "https": 443}
    return (a.scheme.lower(), a.hostname, a.port or defaults.get(a.scheme.lower())) == (
        b.scheme.lower(),
        b.hostname,
        b.port or defaults.get(b.scheme.lower()),
    )
