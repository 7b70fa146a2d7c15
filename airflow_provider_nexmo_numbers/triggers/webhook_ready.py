"""NexmoWebhookReadyTrigger: the deferrable half of NexmoWebhookReadySensor, run in the triggerer.

The triggerer rebuilds a trigger from `serialize()` (possibly several times, after restarts), so the trigger
only ever sends idempotent GETs, keeps its deadline as an absolute time (a restart does not extend the wait)
and sleeps `poke_interval` after every attempt that is not ready - including refused connections, DNS and TLS
failures and timeouts - so it can never spin the shared event loop.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_nexmo_numbers.sensors._readiness import (
    DEFAULT_EXPECTED_STATUSES,
    DEFAULT_REQUEST_TIMEOUT,
    MIN_TRIGGER_SLEEP,
    WebhookReadyConfigError,
    describe_attempt,
    describe_error,
    is_ready,
    redact_url,
    validate_expected_statuses,
    validate_headers,
    validate_non_negative_seconds,
    validate_request_timeout,
    validate_url,
)


class NexmoWebhookReadyTrigger(BaseTrigger):
    """
    Poll a URL with GET until it answers one of `expected_statuses`, then fire a single success event.

    :param url: absolute http(s) URL to probe.
    :param headers: optional request headers (e.g. a shared secret the webhook checks).
    :param expected_statuses: status codes that mean "ready" (default 200).
    :param request_timeout: seconds allowed for each request (connect and read).
    :param poke_interval: seconds to sleep after each not-ready attempt (at least 0.1 s).
    :param deadline: optional absolute UNIX time after which the trigger gives up with a `timeout` event.
        The sensor sets it from its `timeout` so the wait is bounded even where the defer timeout is not
        enforced (``dag.test()`` runs triggers inline and ignores it).

    Events: ``{"status": "success", "url", "status_code", "attempts"}``,
    ``{"status": "timeout", "url", "status_code" (last, or None), "attempts", "message"}`` or
    ``{"status": "error", "url", "attempts", "message"}`` for an unexpected failure inside the trigger.
    """

    def __init__(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        expected_statuses: int | Iterable[int] = DEFAULT_EXPECTED_STATUSES,
        request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
        poke_interval: float = 30.0,
        deadline: float | None = None,
    ) -> None:
        super().__init__()
        self.url = validate_url(url)
        self.headers = validate_headers(headers)
        self.expected_statuses = validate_expected_statuses(expected_statuses)
        self.request_timeout = validate_request_timeout(request_timeout)
        self.poke_interval = validate_non_negative_seconds("poke_interval", poke_interval)
        if deadline is not None:
            if isinstance(deadline, bool) or not isinstance(deadline, (int, float)):
                raise WebhookReadyConfigError(
                    "deadline", "must be a UNIX timestamp (seconds) or None", deadline
                )
            deadline = float(deadline)
        self.deadline = deadline

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """Classpath and JSON-able kwargs; rebuilding from them gives a trigger with identical serialize()."""
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "url": self.url,
                "headers": dict(self.headers) if self.headers is not None else None,
                "expected_statuses": list(self.expected_statuses),
                "request_timeout": self.request_timeout,
                "poke_interval": self.poke_interval,
                "deadline": self.deadline,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        import httpx  # imported here: only the triggerer pays for it, never DAG parsing

        attempts = 0
        last_status: int | None = None
        try:
            async with httpx.AsyncClient(
                timeout=self.request_timeout, follow_redirects=True, headers=self.headers
            ) as client:
                while True:
                    attempts += 1
                    status_code, error = await self._probe(client, httpx)
                    if status_code is not None:
                        last_status = status_code
                    self.log.info(
                        "%s", describe_attempt(self.url, attempts, status_code, error, self.expected_statuses)
                    )
                    if is_ready(status_code, self.expected_statuses):
                        yield TriggerEvent(
                            {
                                "status": "success",
                                "url": self.url,
                                "status_code": status_code,
                                "attempts": attempts,
                            }
                        )
                        return
                    sleep_for = max(self.poke_interval, MIN_TRIGGER_SLEEP)
                    if self.deadline is not None:
                        remaining = self.deadline - time.time()
                        if remaining <= 0:
                            yield TriggerEvent(self._timeout_event(attempts, last_status))
                            return
                        # Wake up for one last attempt right at the deadline rather than overshooting it.
                        sleep_for = min(sleep_for, max(remaining, MIN_TRIGGER_SLEEP))
                    await asyncio.sleep(sleep_for)
        except Exception as exc:  # a bug or an environment problem: report it, never crash silently or spin
            self.log.exception("Webhook readiness trigger failed for %s", redact_url(self.url))
            yield TriggerEvent(
                {
                    "status": "error",
                    "url": self.url,
                    "attempts": attempts,
                    "message": f"webhook readiness trigger failed: {describe_error(exc)}",
                }
            )

    async def _probe(self, client: Any, httpx: Any) -> tuple[int | None, str | None]:
        """One GET; returns (status, None) for any HTTP answer, (None, reason) when there was no answer."""
        try:
            # Streamed so the body is never downloaded: only the status line matters.
            async with client.stream("GET", self.url) as response:
                return response.status_code, None
        except (httpx.HTTPError, OSError) as exc:
            # Refused, DNS, TLS, timeouts, protocol errors: the endpoint is not live yet.
            return None, describe_error(exc)

    def _timeout_event(self, attempts: int, last_status: int | None) -> dict[str, Any]:
        return {
            "status": "timeout",
            "url": self.url,
            "status_code": last_status,
            "attempts": attempts,
            "message": (
                f"webhook {redact_url(self.url)} did not answer {list(self.expected_statuses)} "
                f"before the deadline ({attempts} attempts, last status {last_status})"
            ),
        }
