"""OAuth2 client-credentials token source for the KPN API Store.

KPN issues opaque bearer tokens with no refresh token: `POST <token_url>?grant_type=client_credentials`
with a form body `client_id`, `client_secret`, answered with strings only (`"expires_in": "3599"`). One
token serves the whole process until a minute before it expires: the token lives in a `TokenSlot`, which
the client takes from the process-wide registry (`token_registry`) so that every client with the same
credentials uses it, and the slot's lock makes concurrent callers wait for one grant instead of each
asking for its own. A 401 on an API call means the gateway dropped the token early: the client calls
`invalidate(token)` and asks again, which fetches exactly one new token however many threads and clients
saw the 401.

A grant is attempted once per `get_token()` call: the token source does not retry on its own. The grant is
one step of an API attempt, and the client's retry policy repeats the whole attempt (grant included), so
one operation makes at most `max_retries + 1` attempts in all and a hanging token endpoint costs at most
`(max_retries + 1) * timeout` plus the backoff. A token source that also retried would multiply the two
loops: `(max_retries + 1) ** 2` timeouts, with a second, independent time budget.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import Any

import requests

from airflow_provider_nexmo_numbers.client.budget import active_budget
from airflow_provider_nexmo_numbers.client.errors import NexmoAuthError
from airflow_provider_nexmo_numbers.client.responses import (
    budget_exceeded,
    raise_for_response,
    transport_error,
)
from airflow_provider_nexmo_numbers.client.token_registry import TokenSlot

__all__ = [
    "DEFAULT_TOKEN_LIFETIME",
    "MAX_TOKEN_LIFETIME",
    "MIN_TOKEN_LIFETIME",
    "TOKEN_OPERATION",
    "ApiKeyAuth",
    "TokenSource",
]
log = logging.getLogger(__name__)

# Used when a token response carries no usable `expires_in`: short, so a wrong guess costs one extra
# grant.
DEFAULT_TOKEN_LIFETIME = 300.0
# A stated lifetime is trusted within these bounds. Below the minimum ("0", "1e-9", negative) a token would
# be granted for every call; a token that really dies sooner costs one 401 and one replay, not a grant per
# request. Above the maximum ("inf", "1e300") a token would never be renewed.
MIN_TOKEN_LIFETIME = 10.0
MAX_TOKEN_LIFETIME = 86400.0
# Token URLs whose nonsense lifetimes were already logged at WARNING (once per process, not per grant).
_warned_lifetimes: set[str] = set()
# The `operation` of every error raised by a grant (and the sandbox's name for the token endpoint).
TOKEN_OPERATION = "token"


class TokenSource:
    """Thread-safe access to one OAuth2 client-credentials access token, cached in `slot`.

    Without `slot` the token is private to this source; with a slot from `token_registry` it is shared by
    every source given the same slot (sources sharing a slot must use the same clock). Grants go through
    this source's own session, timeout and TLS settings. The token is renewed `refresh_margin` seconds
    (default 60) before `expires_in`, or halfway through its life when the lifetime is shorter than twice
    the margin. `on_token` is called once with every token value this source hands out, before it is used
    (the hook passes Airflow's `mask_secret`), whether this source granted it or found it in a shared slot.
    `fetches` counts the grants this source requested. One call makes at most one grant request
    and raises its error unchanged (rejected credentials: `NexmoAuthError`; an outage: the transport,
    server or throttling error, with `operation="token"`); retrying is the caller's job (see the module
    docstring for why).
    """

    #: A 401 on an API call may mean the token was dropped early: fetching a new one can help.
    renewable = True

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        token_url: str,
        *,
        session: requests.Session,
        timeout: tuple[float, float],
        verify: bool | str = True,
        on_token: Callable[[str], Any] | None = None,
        refresh_margin: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        slot: TokenSlot | None = None,
    ) -> None:
        self._client_id = client_id
        self._client_secret = client_secret
        self.token_url = token_url
        self._session = session
        self._timeout = timeout
        self._verify = verify
        self._on_token = on_token
        self._refresh_margin = refresh_margin
        self._clock = clock
        self._slot = slot if slot is not None else TokenSlot()
        self._announced: str | None = None  # the last token passed to on_token
        self.fetches = 0

    @property
    def expires_in(self) -> float | None:
        """Lifetime in seconds of the cached token, as the token endpoint stated it (None before any)."""
        return self._slot.lifetime

    def get_token(self) -> str:
        """A valid access token, fetching a new one only when none is cached or it is about to expire."""
        slot = self._slot
        with slot.lock:
            token = slot.token
            if token is None or self._clock() >= self._renew_at(slot):
                started = self._clock()
                token, lifetime = self._grant()
                slot.token, slot.obtained_at, slot.lifetime = token, started, lifetime
            if token != self._announced:
                if self._on_token is not None:
                    self._on_token(token)
                self._announced = token
            return token

    @staticmethod
    def authorization(token: str) -> str:
        """The `Authorization` header value that carries `token`."""
        return f"Bearer {token}"

    def _renew_at(self, slot: TokenSlot) -> float:
        lifetime = slot.lifetime or 0.0
        return slot.obtained_at + lifetime - min(self._refresh_margin, lifetime / 2.0)

    def invalidate(self, token: str | None = None) -> None:
        """Forget the cached token (only if it is still `token`, so a fresh one fetched by another thread
        or another client stays)."""
        with self._slot.lock:
            if token is None or token == self._slot.token:
                self._slot.token = None

    def _grant(self) -> tuple[str, float]:
        self.fetches += 1
        budget = active_budget()  # the grant is part of the call that needs the token: same deadline
        try:
            response = self._session.post(
                self.token_url,
                params={"grant_type": "client_credentials"},
                data={"client_id": self._client_id, "client_secret": self._client_secret},
                headers={"Accept": "application/json"},
                timeout=budget.timeout(self._timeout) if budget is not None else self._timeout,
                verify=self._verify,
            )
        except requests.RequestException as exc:
            raise transport_error(exc, operation=TOKEN_OPERATION, timeout=self._timeout) from exc
        cut_off = budget_exceeded(operation=TOKEN_OPERATION, timeout=self._timeout)
        if cut_off is not None:
            response.close()
            raise cut_off
        if response.status_code in (400, 401, 403):
            # A 400 from an OAuth endpoint means invalid_client/invalid_request: a credentials problem
            # too.
            error = _oauth_error_text(response)
            raise NexmoAuthError(
                f"the token endpoint {self.token_url} rejected the client credentials of client id "
                f"{self._client_id!r}" + (f": {error}" if error else ""),
                operation=TOKEN_OPERATION,
                status=response.status_code,
            )
        body = raise_for_response(response, operation=TOKEN_OPERATION)
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise NexmoAuthError(
                f"the token endpoint {self.token_url} answered without an access_token",
                operation=TOKEN_OPERATION,
                status=response.status_code,
            )
        lifetime = _lifetime(body.get("expires_in"), self.token_url)
        log.debug("Fetched a new access token from %s, valid for %.0f s", self.token_url, lifetime)
        return token, lifetime


def _oauth_error_text(response: requests.Response) -> str | None:
    """A short description of an OAuth error body, never echoing anything but the error fields."""
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    for key in ("error_description", "Error", "error", "ErrorCode", "message"):
        value = body.get(key)
        if isinstance(value, str) and value:
            return value
    fault = body.get("fault")
    if isinstance(fault, dict) and isinstance(fault.get("faultstring"), str):
        return fault["faultstring"]
    return None


def _lifetime(expires_in: Any, token_url: str) -> float:
    """`expires_in` is a string of seconds on KPN ("3599"); numbers accepted. Absent or garbage -> the
    default; below the minimum or above the maximum -> that bound. Logged at WARNING once per token URL."""
    seconds: float | None
    try:
        seconds = float(expires_in)
    except (TypeError, ValueError):
        seconds = None
    if seconds is not None and math.isfinite(seconds) and MIN_TOKEN_LIFETIME <= seconds <= MAX_TOKEN_LIFETIME:
        return seconds
    if seconds is None or math.isnan(seconds):
        lifetime = DEFAULT_TOKEN_LIFETIME
    else:
        lifetime = min(max(seconds, MIN_TOKEN_LIFETIME), MAX_TOKEN_LIFETIME)
    level = logging.DEBUG if token_url in _warned_lifetimes else logging.WARNING
    _warned_lifetimes.add(token_url)
    log.log(
        level,
        "The token endpoint %s stated a token lifetime of %r (expires_in), which is not a sane number of "
        "seconds (%g to %g); reusing each token for %g s instead",
        token_url,
        expires_in,
        MIN_TOKEN_LIFETIME,
        MAX_TOKEN_LIFETIME,
        lifetime,
    )
    return lifetime


class ApiKeyAuth:
    """Vonage direct: the api key and secret as HTTP Basic auth on every request, as Vonage's SDK 4.x sends.

    The same interface as `TokenSource` so the client's request path does not care which flavour it
    speaks, but there is nothing to fetch, cache or renew: `get_token()` returns the Basic credentials,
    a 401 is final (`renewable` is False: the same key and secret would be refused again), and `fetches`
    stays 0. The credentials are not passed to an `on_token` callback: the api secret is the connection's
    password, which Airflow masks already, and registering it again would only echo it (see README).
    """

    renewable = False
    token_url: str | None = None
    expires_in: float | None = None
    fetches = 0

    def __init__(self, api_key: str, api_secret: str) -> None:
        import base64

        self._credentials = base64.b64encode(f"{api_key}:{api_secret}".encode()).decode("ascii")

    def get_token(self) -> str:
        return self._credentials

    @staticmethod
    def authorization(token: str) -> str:
        return f"Basic {token}"

    def invalidate(self, token: str | None = None) -> None:
        """Nothing to forget: api key and secret do not expire."""
