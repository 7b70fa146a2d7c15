"""One readiness attempt over HTTP: GET the URL, follow redirects safely, all within one deadline.

The sensor (poke / reschedule, through `probe_sync`) and the trigger (in the triggerer's event loop) run this
same coroutine, so all three modes make the same request and reach the same verdict:

- `request_timeout` bounds the whole attempt (connect, TLS, every redirect hop, the status line and headers),
  not each socket read: a server that trickles its answer a byte at a time cannot hold a poke past it.
- Redirects are followed by hand (at most `MAX_REDIRECTS`). On a hop to another origin (scheme, host, port)
  every caller header is dropped, Authorization and custom secrets such as X-Hook-Secret alike, and they stay
  dropped for the rest of the chain; a hop to a non-http(s) URL or one with user:password@ is permanent.
- Only the status line and headers are read; the body is never downloaded.

httpx ships with Airflow 3; it is imported when an attempt runs, never at DAG-parse time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urljoin, urlsplit

from airflow_provider_nexmo_numbers.readiness.config import MAX_REDIRECTS
from airflow_provider_nexmo_numbers.readiness.outcome import (
    Outcome,
    Verdict,
    classify_error,
    classify_status,
    redact_url,
    same_origin,
)


def new_client(request_timeout: float) -> Any:
    """The httpx client for readiness attempts: no redirects of its own, no default headers."""
    import httpx

    return httpx.AsyncClient(timeout=request_timeout, follow_redirects=False)


async def probe(
    client: Any,
    url: str,
    *,
    headers: Mapping[str, str] | None,
    expected_statuses: Iterable[int],
    request_timeout: float,
) -> Outcome:
    """One attempt, ended by `request_timeout` wherever it is (a deadline per attempt, not per read)."""
    expected = tuple(expected_statuses)
    try:
        return await asyncio.wait_for(_follow(client, url, headers, expected), timeout=request_timeout)
    except asyncio.TimeoutError:
        return Outcome(
            Verdict.NOT_READY,
            None,
            f"Timeout: no complete answer within request_timeout={request_timeout:g}s",
        )


async def _follow(
    client: Any, url: str, headers: Mapping[str, str] | None, expected: tuple[int, ...]
) -> Outcome:
    import httpx

    current, sent = url, dict(headers or {})
    for _ in range(MAX_REDIRECTS + 1):
        try:
            async with client.stream("GET", current, headers=sent) as response:
                status, location = response.status_code, response.headers.get("location")
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            return classify_error(exc, invalid_url=True)
        except (httpx.HTTPError, OSError) as exc:
            return classify_error(exc)
        if status in expected or not (300 <= status < 400 and location):
            return classify_status(status, expected)
        target = urljoin(current, location)
        refusal = _refuse_redirect(target)
        if refusal:
            return Outcome(Verdict.PERMANENT, status, refusal)
        if sent and not same_origin(current, target):
            sent = {}  # never hand a secret header to another origin
        current = target
    return Outcome(Verdict.PERMANENT, None, f"more than {MAX_REDIRECTS} redirects")


def _refuse_redirect(target: str) -> str | None:
    try:
        parts = urlsplit(target)
    except ValueError:
        return "redirected to a malformed URL"
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return f"redirected to a non-http(s) URL ({parts.scheme}:)"
    if parts.username is not None or parts.password is not None:
        return f"redirected to a URL with credentials ({redact_url(target)})"
    return None


def probe_sync(
    url: str, *, headers: Mapping[str, str] | None, expected_statuses: Iterable[int], request_timeout: float
) -> Outcome:
    """`probe` for the synchronous sensor: its own short-lived client and event loop."""

    async def attempt() -> Outcome:
        async with new_client(request_timeout) as client:
            return await probe(
                client,
                url,
                headers=headers,
                expected_statuses=expected_statuses,
                request_timeout=request_timeout,
            )

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(attempt())
    # Called from code that already runs an event loop in this thread: run the attempt beside it.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, attempt()).result()
