"""NexmoWebhookReadyTrigger: the deferrable half of NexmoWebhookReadySensor, run in the triggerer.

The triggerer rebuilds a trigger from `serialize()` (possibly several times, after restarts), so the trigger
only ever sends idempotent GETs, keeps its deadline as an absolute time (a restart does not extend the wait)
and sleeps `poke_interval` after every attempt that is not ready - including refused connections, TLS
failures and timeouts - so it can never spin the shared event loop. Each attempt is `readiness.probe`, the
sensor's own: one deadline per attempt, secret headers dropped on a cross-origin redirect.

This module imports Airflow's `airflow.triggers.base` (pydantic models, ~10 ms); the public module
`triggers.webhook_ready` loads it only when the class is first used, so DAG files never pay for it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_nexmo_numbers.readiness.config import (
    DEFAULT_EXPECTED_STATUSES,
    DEFAULT_MAX_PERMANENT_FAILURES,
    DEFAULT_REQUEST_TIMEOUT,
    MIN_TRIGGER_SLEEP,
    WebhookReadyConfigError,
    validate_expected_statuses,
    validate_headers,
    validate_max_permanent_failures,
    validate_non_negative_seconds,
    validate_request_timeout,
    validate_url,
)
from airflow_provider_nexmo_numbers.readiness.outcome import Verdict, describe_error, redact_url
from airflow_provider_nexmo_numbers.readiness.probe import new_client, probe
from airflow_provider_nexmo_numbers.readiness.progress import Progress

# Where users, the sensor and the triggerer find the class: the cheap public module, not this one.
PUBLIC_MODULE = "airflow_provider_nexmo_numbers.triggers.webhook_ready"
CLASSPATH = f"{PUBLIC_MODULE}.NexmoWebhookReadyTrigger"


class NexmoWebhookReadyTrigger(BaseTrigger):
    """
    Poll a URL with GET until it answers one of `expected_statuses`, then fire a single success event.

    :param url: absolute http(s) URL to probe.
    :param headers: optional request headers (e.g. a shared secret the webhook checks).
    :param expected_statuses: status codes that mean "ready" (default 200).
    :param request_timeout: seconds allowed for each attempt as a whole (not per read).
    :param max_permanent_failures: consecutive "can never be ready" answers that end the wait with a
        ``failed`` event.
    :param poke_interval: seconds to sleep after each not-ready attempt (at least 0.1 s).
    :param deadline: optional absolute UNIX time after which the trigger gives up with a `timeout` event.
        The sensor sets it from its `timeout` so the wait is bounded even where the defer timeout is not
        enforced (``dag.test()`` runs triggers inline and ignores it).

    Events: ``{"status": "success", "url", "status_code", "attempts"}``,
    ``{"status": "timeout", "url", "status_code" (last, or None), "attempts", "message"}`` or
    ``{"status": "failed", "url", "status_code", "attempts", "message"}`` after `max_permanent_failures`
    permanent answers in a row, or ``{"status": "error", "url", "attempts", "message"}`` for an unexpected
    failure inside the trigger.
    """

    def __init__(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        expected_statuses: int | Iterable[int] = DEFAULT_EXPECTED_STATUSES,
        request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
        max_permanent_failures: int = DEFAULT_MAX_PERMANENT_FAILURES,
        poke_interval: float = 30.0,
        deadline: float | None = None,
    ) -> None:
        super().__init__()
        self.url = validate_url(url)
        self.headers = validate_headers(headers)
        self.expected_statuses = validate_expected_statuses(expected_statuses)
        self.request_timeout = validate_request_timeout(request_timeout)
        self.max_permanent_failures = validate_max_permanent_failures(max_permanent_failures)
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
            CLASSPATH,
            {
                "url": self.url,
                "headers": dict(self.headers) if self.headers is not None else None,
                "expected_statuses": list(self.expected_statuses),
                "request_timeout": self.request_timeout,
                "max_permanent_failures": self.max_permanent_failures,
                "poke_interval": self.poke_interval,
                "deadline": self.deadline,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        progress = Progress(self.url, self.max_permanent_failures)
        try:
            async with new_client(self.request_timeout) as client:
                while True:
                    outcome = await probe(
                        client,
                        self.url,
                        headers=self.headers,
                        expected_statuses=self.expected_statuses,
                        request_timeout=self.request_timeout,
                    )
                    line = progress.record(outcome)
                    if line:
                        self.log.info("%s", line)
                    if outcome.verdict is Verdict.READY:
                        yield TriggerEvent(self._event("success", progress, status_code=outcome.status_code))
                        return
                    if progress.gives_up:
                        yield TriggerEvent(
                            self._event("failed", progress, message=progress.failure_message())
                        )
                        return
                    sleep_for = max(self.poke_interval, MIN_TRIGGER_SLEEP)
                    if self.deadline is not None:
                        remaining = self.deadline - time.time()
                        if remaining <= 0:
                            yield TriggerEvent(self._timeout_event(progress))
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
                    "attempts": progress.attempts,
                    "message": f"webhook readiness trigger failed: {describe_error(exc)}",
                }
            )

    def _event(self, status: str, progress: Progress, **fields: Any) -> dict[str, Any]:
        event = {"status": status, "url": self.url, "attempts": progress.attempts}
        fields.setdefault("status_code", progress.last_status_code)
        return {**event, **fields}

    def _timeout_event(self, progress: Progress) -> dict[str, Any]:
        return self._event(
            "timeout",
            progress,
            message=(
                f"webhook {redact_url(self.url)} did not answer {list(self.expected_statuses)} before the "
                f"deadline ({progress.attempts} attempts, last status {progress.last_status_code}); "
                f"{progress.summary()}"
            ),
        )


NexmoWebhookReadyTrigger.__module__ = PUBLIC_MODULE
