"""NexmoWebhookReadySensor: wait until a webhook URL answers, before pointing a number's moHttpUrl at it.

The Numbers API refuses a `moHttpUrl` whose endpoint is not live, so a DAG that deploys a webhook and then
configures numbers needs to wait in between. This sensor GETs the URL until it answers an expected status.
What a deployment in progress produces (connection refused, TLS not ready, timeouts, 5xx, 404, 429) is "not
ready yet"; what will not fix itself (a DNS name that does not exist, 401/403/405 and other 4xx) fails the
task after `max_permanent_failures` such answers in a row, with a message saying why. A malformed URL, one
with user:password@, or another invalid argument is an error before any request.

No Airflow connection is involved: the sensor is URL-based and does not use the Nexmo client. Every mode
makes its attempts through `readiness.probe` (httpx); `deferrable=True` hands the wait to
`NexmoWebhookReadyTrigger` in the triggerer.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import (
    AirflowException,
    AirflowFailException,
    AirflowSensorTimeout,
    AirflowSkipException,
    BaseSensorOperator,
    PokeReturnValue,
    conf,
    mask_secret,
)

from airflow_provider_nexmo_numbers.readiness.config import (
    DEFAULT_EXPECTED_STATUSES,
    DEFAULT_MAX_PERMANENT_FAILURES,
    DEFAULT_REQUEST_TIMEOUT,
    WebhookReadyConfigError,
    is_templated,
    sensitive_header_values,
    validate_expected_statuses,
    validate_headers,
    validate_max_permanent_failures,
    validate_non_negative_seconds,
    validate_request_timeout,
    validate_url,
)

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

    from airflow_provider_nexmo_numbers.readiness.progress import Progress
    from airflow_provider_nexmo_numbers.triggers.webhook_ready import NexmoWebhookReadyTrigger

_VALID_MODES = ("poke", "reschedule")


class NexmoWebhookReadySensor(BaseSensorOperator):
    """
    Wait until `url` answers GET with one of `expected_statuses` (200 by default).

    :param url: absolute http(s) URL of the webhook (templated). Validated at construction unless templated,
        otherwise right after rendering, before the first request.
    :param headers: optional request headers (templated), e.g. a shared secret the webhook checks. Values of
        credential-like headers (Authorization, *token*, *key*, ...) are masked in logs. None of them is sent
        on after a redirect to another origin.
    :param expected_statuses: an int or an iterable of ints (100-599) that count as ready.
    :param request_timeout: seconds allowed for each attempt as a whole (connect, TLS, redirects, status line
        and headers), > 0: a server trickling its answer cannot stretch it.
    :param max_permanent_failures: consecutive answers meaning "can never be ready" (DNS name not found,
        4xx other than 404/408/425/429, an invalid redirect) after which the task fails without waiting for
        `timeout` (default 3). In reschedule mode earlier pokes' answers are not kept: from the poke with
        this number on, one such answer fails the task.
    :param poke_interval: seconds between attempts (>= 0; the deferred trigger sleeps at least 0.1 s).
    :param timeout: total seconds to wait before failing with a sensor timeout (or skipping if `soft_fail`).
    :param mode: ``poke`` (holds a worker slot) or ``reschedule`` (frees it between attempts).
    :param deferrable: hand the wait to `NexmoWebhookReadyTrigger` in the triggerer. Defaults to
        ``[operators] default_deferrable``.

    Returns (XCom) ``{"url": ..., "status_code": <int>, "attempts": <attempts in this task try>}``.
    """

    template_fields: Sequence[str] = ("url", "headers")
    ui_color = "#d9f2e6"

    def __init__(
        self,
        *,
        url: str,
        headers: Mapping[str, str] | None = None,
        expected_statuses: int | Iterable[int] = DEFAULT_EXPECTED_STATUSES,
        request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
        max_permanent_failures: int = DEFAULT_MAX_PERMANENT_FAILURES,
        poke_interval: timedelta | float = 30.0,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        **kwargs: Any,
    ) -> None:
        # Our own checks first, so every message names the argument (the base class has generic wording).
        validate_non_negative_seconds("poke_interval", poke_interval)
        if kwargs.get("timeout") is not None:
            validate_non_negative_seconds("timeout", kwargs["timeout"])
        mode = kwargs.get("mode", "poke")
        if mode not in _VALID_MODES:
            raise WebhookReadyConfigError("mode", "must be 'poke' or 'reschedule'", mode)
        if not isinstance(deferrable, bool):
            raise WebhookReadyConfigError("deferrable", "must be True or False", deferrable)
        super().__init__(poke_interval=poke_interval, **kwargs)
        self.url = url
        self.headers = headers
        self.expected_statuses = validate_expected_statuses(expected_statuses)
        self.request_timeout = validate_request_timeout(request_timeout)
        self.max_permanent_failures = validate_max_permanent_failures(max_permanent_failures)
        self.deferrable = deferrable
        self._progress: Progress | None = None
        if not is_templated(url):
            validate_url(url)
        if not (isinstance(headers, str) or hasattr(headers, "resolve")):
            validate_headers(headers)  # a mapping whose values are templates is checked structurally here

    # -- entry points -------------------------------------------------------------------------------------

    def execute(self, context: Context) -> Any:
        self._validate_rendered()
        if not self.deferrable:
            return super().execute(context)
        # One quick synchronous look first: an endpoint that is already live needs no trip to the triggerer.
        first = self.poke(context)
        if first:
            return first.xcom_value
        self.defer(
            trigger=self._make_trigger(),
            method_name="execute_complete",
            # The task object is rebuilt on resume, so the synchronous attempt is carried over explicitly.
            kwargs={"attempts_before": self._attempts},
            timeout=timedelta(seconds=self.timeout),
        )

    def poke(self, context: Context) -> bool | PokeReturnValue:
        # Imported when a poke runs: a DAG file that only builds the sensor pays for none of it.
        from airflow_provider_nexmo_numbers.readiness.outcome import Verdict
        from airflow_provider_nexmo_numbers.readiness.probe import probe_sync

        progress = self._progress_for(self.url)
        # Reschedule mode: every poke is a new process; number the attempts across them for the log.
        attempt = context.get("task_reschedule_count", 0) + 1 if self.reschedule else None
        outcome = probe_sync(
            self.url,
            headers=self.headers,
            expected_statuses=self.expected_statuses,
            request_timeout=self.request_timeout,
        )
        line = progress.record(outcome, attempt=attempt)
        if line:
            self.log.info("%s", line)
        if outcome.verdict is Verdict.READY:
            return PokeReturnValue(
                is_done=True, xcom_value=self._result(outcome.status_code, progress.attempts)
            )
        permanent_in_reschedule = (
            self.reschedule
            and outcome.verdict is Verdict.PERMANENT
            and progress.attempts >= self.max_permanent_failures
        )
        if progress.gives_up or permanent_in_reschedule:
            raise AirflowFailException(f"Webhook readiness check failed: {progress.failure_message()}")
        return False

    @property
    def _attempts(self) -> int:
        return self._progress.attempts if self._progress else 0

    def _progress_for(self, url: str) -> Progress:
        from airflow_provider_nexmo_numbers.readiness.progress import Progress

        if self._progress is None:
            self._progress = Progress(url, self.max_permanent_failures)
        return self._progress

    def execute_complete(
        self, context: Context, event: dict[str, Any] | None = None, attempts_before: int = 0
    ) -> dict[str, Any]:
        """Resume after the trigger fired: success returns the XCom value, anything else fails clearly."""
        if not isinstance(event, dict) or "status" not in event:
            raise AirflowException(f"Webhook readiness trigger sent a malformed event: {event!r}")
        status = event["status"]
        if status == "success":
            status_code = event.get("status_code")
            if not isinstance(status_code, int) or status_code not in self.expected_statuses:
                raise AirflowException(
                    f"Webhook readiness trigger reported success without a ready status: {event!r}"
                )
            attempts = attempts_before + int(event.get("attempts") or 0)
            return self._result(status_code, attempts, url=event.get("url"))
        message = event.get("message") or f"webhook readiness check ended with status {status!r}"
        if status == "timeout":
            if self.soft_fail:
                raise AirflowSkipException(f"Skipping (soft_fail): {message}")
            raise AirflowSensorTimeout(f"Sensor has timed out: {message}")
        if status == "failed":  # permanent answers in a row: retrying the same URL cannot help
            raise AirflowFailException(f"Webhook readiness check failed: {message}")
        raise AirflowException(f"Webhook readiness check failed: {message}")

    # -- helpers ------------------------------------------------------------------------------------------

    def _validate_rendered(self) -> None:
        """Re-check templated arguments after rendering; a bad value fails the task without retries."""
        try:
            validate_url(self.url)
            self.headers = validate_headers(self.headers)
        except WebhookReadyConfigError as exc:
            raise AirflowFailException(str(exc)) from exc
        for secret in sensitive_header_values(self.headers):
            mask_secret(secret)

    def _make_trigger(self) -> NexmoWebhookReadyTrigger:
        from airflow_provider_nexmo_numbers.triggers.webhook_ready import NexmoWebhookReadyTrigger

        return NexmoWebhookReadyTrigger(
            url=self.url,
            headers=self.headers,
            expected_statuses=self.expected_statuses,
            request_timeout=self.request_timeout,
            max_permanent_failures=self.max_permanent_failures,
            poke_interval=self.poke_interval,
            # Absolute, so a triggerer restart cannot extend the wait; also bounds dag.test(), which runs
            # triggers inline and ignores the defer timeout.
            deadline=time.time() + self.timeout,
        )

    def _result(self, status_code: int | None, attempts: int, url: str | None = None) -> dict[str, Any]:
        from airflow_provider_nexmo_numbers.readiness.outcome import redact_url

        result = {"url": url or self.url, "status_code": status_code, "attempts": attempts}
        self.log.info(
            "Webhook %s is ready (HTTP %s after %s attempts)",
            redact_url(result["url"]),
            status_code,
            attempts,
        )
        return result
