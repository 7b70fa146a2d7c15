"""NexmoWebhookReadySensor driven directly (execute / poke / execute_complete) against loopback endpoints."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from datetime import timedelta
from urllib.parse import quote

import pytest
from airflow.providers.common.compat.sdk import (
    AirflowException,
    AirflowFailException,
    AirflowSensorTimeout,
    AirflowSkipException,
    TaskDeferred,
)

from airflow_provider_nexmo_numbers.sensors.webhook_ready import NexmoWebhookReadySensor
from airflow_provider_nexmo_numbers.triggers.webhook_ready import NexmoWebhookReadyTrigger
from tests.sensors.webhook_server import LocalWebhook, closed_port
from tests.triggers.conftest import run_until_event

pytestmark = pytest.mark.timeout(60)


def make_sensor(url: str, **kwargs) -> NexmoWebhookReadySensor:
    kwargs.setdefault("poke_interval", 0.2)
    kwargs.setdefault("timeout", 20)
    kwargs.setdefault("request_timeout", 2)
    return NexmoWebhookReadySensor(task_id="wait_for_webhook", url=url, **kwargs)


# -- poke mode --------------------------------------------------------------------------------------------


def test_poke_mode_waits_for_the_webhook_to_turn_ready(local_webhook):
    url = local_webhook.url("ready-after-hits/2")
    result = make_sensor(url, poke_interval=0.05).execute({})
    assert result == {"url": url, "status_code": 200, "attempts": 3}  # 503, 503, then 200
    assert len(local_webhook.hits) == 3


def test_poke_mode_waits_through_refused_connections():
    sensor = make_sensor(f"http://127.0.0.1:{closed_port()}/hook", poke_interval=0.05, timeout=0.3)
    with pytest.raises(AirflowSensorTimeout):  # a timeout, never a failure: refused means "not yet"
        sensor.execute({})
    assert sensor._attempts >= 1


def test_poke_returns_false_for_5xx_404_429_tls_failure_and_request_timeout(local_webhook):
    for url, kwargs in [
        (local_webhook.url("status/500"), {}),
        (local_webhook.url("status/502"), {}),
        (local_webhook.url("status/404"), {}),  # the route is not published yet
        (local_webhook.url("status/429"), {}),
        (f"https://127.0.0.1:{local_webhook.port}/status/200", {}),  # TLS handshake against plain HTTP
        (local_webhook.url("hang/2"), {"request_timeout": 0.3}),
    ]:
        assert make_sensor(url, **kwargs).poke({}) is False, url


def test_never_ready_endpoint_times_out(local_webhook):
    sensor = make_sensor(local_webhook.url("status/503"), poke_interval=0.05, timeout=0.3)
    with pytest.raises(AirflowSensorTimeout):
        sensor.execute({})


def test_never_ready_endpoint_skips_with_soft_fail(local_webhook):
    sensor = make_sensor(local_webhook.url("status/503"), poke_interval=0.05, timeout=0.3, soft_fail=True)
    with pytest.raises(AirflowSkipException):
        sensor.execute({})


def test_expected_statuses_and_headers(local_webhook):
    assert make_sensor(local_webhook.url("status/204"), expected_statuses=[200, 204]).execute({}) == {
        "url": local_webhook.url("status/204"),
        "status_code": 204,
        "attempts": 1,
    }
    assert make_sensor(local_webhook.url("status/204")).poke({}) is False  # 204 is not in the default {200}
    hook = local_webhook.url("headers")
    assert make_sensor(hook, headers={"X-Hook-Secret": "s3cret"}).execute({})["status_code"] == 200
    assert make_sensor(hook, headers={"X-Hook-Secret": "wrong"}).poke({}) is False  # 401: one is tolerated


def test_credential_headers_are_masked(local_webhook, monkeypatch):
    masked: list[str] = []
    monkeypatch.setattr("airflow_provider_nexmo_numbers.sensors.webhook_ready.mask_secret", masked.append)
    headers = {"X-Hook-Secret": "s3cret", "Authorization": "Bearer abc", "Accept": "text/plain"}
    make_sensor(local_webhook.url("headers"), headers=headers).execute({})
    assert sorted(masked) == ["Bearer abc", "s3cret"]


def test_attempts_are_summarised_not_logged_one_line_each(local_webhook, capfd):
    make_sensor(local_webhook.url("ready-after-hits/6"), poke_interval=0.01).execute({})
    out, err = capfd.readouterr()
    lines = [line for line in (out + err).splitlines() if "Webhook readiness attempt" in line]
    summaries = [line for line in (out + err).splitlines() if "not ready after" in line]
    # 7 attempts: the first (503), summaries at 2 and 4, the change to 200 at 7; attempts 3, 5, 6 are silent.
    assert len(lines) == 2, lines
    assert "attempt 1:" in lines[0]
    assert "-> HTTP 503: not ready yet" in lines[0]
    assert "attempt 7:" in lines[1]
    assert "-> HTTP 200: ready" in lines[1]
    assert len(summaries) == 2
    assert "after 4 attempts (HTTP 503 x4)" in summaries[1]


# -- "can never be ready": fail fast ------------------------------------------------------------------------


@pytest.fixture
def unknown_dns_name(monkeypatch):
    """Make one host name fail DNS as a non-existent name does (the sandbox cannot produce a DNS answer;
    every other name still resolves normally, and nothing leaves the machine)."""
    real = socket.getaddrinfo
    name = "hook.nexmo-numbers-test.invalid"

    def getaddrinfo(host, *args, **kwargs):
        if host == name:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return name


def test_unknown_dns_name_fails_after_max_permanent_failures(unknown_dns_name):
    sensor = make_sensor(f"https://{unknown_dns_name}/hook", poke_interval=0.01, timeout=3600)
    with pytest.raises(AirflowFailException, match="DNS name does not resolve") as raised:
        sensor.execute({})
    assert sensor._attempts == 3  # the default max_permanent_failures, not 6 hours of polling
    assert "3 attempts in a row" in str(raised.value)


def test_dns_resolver_hiccup_is_only_not_ready(monkeypatch):
    def getaddrinfo(*args, **kwargs):
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    sensor = make_sensor("https://hooks.example.com/hook", poke_interval=0.01, timeout=0.2)
    with pytest.raises(AirflowSensorTimeout):
        sensor.execute({})


@pytest.mark.parametrize("status", [400, 401, 403, 405, 410])
def test_a_4xx_that_will_not_fix_itself_fails_fast(local_webhook, status):
    sensor = make_sensor(
        local_webhook.url(f"status/{status}"), poke_interval=0.01, timeout=3600, max_permanent_failures=2
    )
    with pytest.raises(AirflowFailException, match=f"HTTP {status}.*can never be ready"):
        sensor.execute({})
    assert len(local_webhook.hits) == 2


def test_a_permanent_answer_followed_by_a_transient_one_resets_the_count(local_webhook):
    sensor = make_sensor(local_webhook.url("status/403"), max_permanent_failures=2)
    assert sensor.poke({}) is False
    sensor.url = local_webhook.url("status/503")
    assert sensor.poke({}) is False
    sensor.url = local_webhook.url("status/403")
    assert sensor.poke({}) is False  # not two in a row


def test_reschedule_mode_counts_attempts_across_pokes(local_webhook):
    """Each reschedule poke is a new process: from poke number max_permanent_failures on, one fails."""
    url = local_webhook.url("status/403")
    early = make_sensor(url, mode="reschedule", max_permanent_failures=3)
    assert early.poke({"task_reschedule_count": 1}) is False  # poke 2
    late = make_sensor(url, mode="reschedule", max_permanent_failures=3)
    with pytest.raises(AirflowFailException, match="HTTP 403"):
        late.poke({"task_reschedule_count": 2})  # poke 3


# -- bounded time, redirects, credentials -------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["poke", "reschedule"])
def test_request_timeout_bounds_a_whole_attempt_against_a_trickling_server(local_webhook, mode):
    # The server needs 20 s to send its headers, one byte every ~0.07 s: no single read ever times out.
    sensor = make_sensor(local_webhook.url("trickle/20"), mode=mode, request_timeout=0.5)
    assert sensor.poke({}) is False
    assert "within request_timeout=0.5s" in sensor._progress.last.reason
    _wait_until(lambda: local_webhook.aborted)  # the server saw the client hang up mid-answer
    assert local_webhook.aborted == ["/trickle/20"]


def _wait_until(condition, limit: float = 15.0) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.05)


SECRET_HEADERS = {"X-Hook-Secret": "s3cret", "Authorization": "Bearer t0ken"}


@pytest.mark.parametrize("mode", ["poke", "reschedule"])
def test_secret_headers_are_dropped_on_a_redirect_to_another_origin(local_webhook, mode):
    with LocalWebhook() as other:
        target = other.url("status/200")
        start = local_webhook.url(f"redirect?to={quote(target, safe='')}")
        result = make_sensor(start, mode=mode, headers=SECRET_HEADERS).poke({})
    assert result.xcom_value["status_code"] == 200
    assert _sent(local_webhook, "X-Hook-Secret") == ["s3cret"]  # the origin itself got them
    assert _sent(other, "X-Hook-Secret") == [None]
    assert _sent(other, "Authorization") == [None]


def test_secret_headers_are_kept_on_a_same_origin_redirect(local_webhook):
    start = local_webhook.url(f"redirect?to={quote('/headers', safe='')}")
    result = make_sensor(start, headers={"X-Hook-Secret": "s3cret"}).execute({})
    assert result["status_code"] == 200  # /headers answered 200: the secret arrived


def _sent(server: LocalWebhook, header: str) -> list:
    return [headers.get(header) for _, headers in server.requests]


def test_a_redirect_to_a_url_with_credentials_is_not_followed(local_webhook):
    start = local_webhook.url(f"redirect?to={quote('http://u:pw@127.0.0.1:1/x', safe='')}")
    sensor = make_sensor(start, max_permanent_failures=1)
    with pytest.raises(AirflowFailException, match="credentials") as raised:
        sensor.execute({})
    assert "pw" not in str(raised.value)


def test_webhook_urls_with_credentials_are_refused_without_echoing_the_password():
    with pytest.raises(ValueError, match="credentials") as raised:
        make_sensor("https://hook-user:pa55word@hooks.example.com/sms")
    assert "pa55word" not in str(raised.value)
    sensor = make_sensor("{{ params.hook }}")
    sensor.url = "https://hook-user:pa55word@hooks.example.com/sms"  # what rendering produced
    with pytest.raises(AirflowFailException, match="credentials") as raised:
        sensor.execute({})
    assert "pa55word" not in str(raised.value)
    with pytest.raises(ValueError, match="credentials"):
        NexmoWebhookReadyTrigger("https://hook-user:pa55word@hooks.example.com/sms")


# -- deferrable -------------------------------------------------------------------------------------------


def test_deferral_raises_task_deferred_with_the_right_trigger_and_timeout(local_webhook):
    url = local_webhook.url("ready-after-hits/2")
    sensor = make_sensor(
        url,
        deferrable=True,
        timeout=90,
        poke_interval=0.05,
        request_timeout=3,
        headers={"X-Trace": "1"},
        expected_statuses=(200, 204),
    )
    before = time.time()
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute({})
    exc = deferred.value
    assert exc.method_name == "execute_complete"
    assert exc.timeout == timedelta(seconds=90)
    assert exc.kwargs == {"attempts_before": 1}
    assert isinstance(exc.trigger, NexmoWebhookReadyTrigger)
    classpath, kwargs = exc.trigger.serialize()
    assert classpath == "airflow_provider_nexmo_numbers.triggers.webhook_ready.NexmoWebhookReadyTrigger"
    deadline = kwargs.pop("deadline")
    assert before + 90 <= deadline <= time.time() + 90
    assert kwargs == {
        "url": url,
        "headers": {"X-Trace": "1"},
        "expected_statuses": [200, 204],
        "request_timeout": 3.0,
        "max_permanent_failures": 3,
        "poke_interval": 0.05,
    }

    # The trigger fires once the webhook turns ready; the resumed task returns the XCom value.
    event, _ = run_until_event(exc.trigger)
    assert event["status"] == "success"
    assert event["attempts"] == 2  # 503 (the trigger's first), then 200
    result = sensor.execute_complete({}, event=event, **exc.kwargs)
    assert result == {"url": url, "status_code": 200, "attempts": 3}


def test_deferrable_returns_at_once_when_already_ready(local_webhook):
    result = make_sensor(local_webhook.url("status/200"), deferrable=True).execute({})
    assert result["status_code"] == 200
    assert result["attempts"] == 1


def test_deferrable_never_ready_trigger_times_out(local_webhook):
    sensor = make_sensor(local_webhook.url("status/503"), deferrable=True, timeout=0.3, poke_interval=0.05)
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute({})
    event, _ = run_until_event(deferred.value.trigger)
    assert event["status"] == "timeout"
    assert event["status_code"] == 503
    with pytest.raises(AirflowSensorTimeout, match="did not answer"):
        sensor.execute_complete({}, event=event)
    soft = make_sensor(sensor.url, deferrable=True, timeout=1.0, soft_fail=True)
    with pytest.raises(AirflowSkipException):
        soft.execute_complete({}, event=event)


def test_deferrable_unknown_dns_name_fails_without_retries(unknown_dns_name):
    sensor = make_sensor(
        f"https://{unknown_dns_name}/hook", deferrable=True, timeout=3600, poke_interval=0.01
    )
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute({})  # the first, synchronous attempt: one permanent answer of three
    event, _ = run_until_event(deferred.value.trigger)
    assert event["status"] == "failed"
    assert event["attempts"] == 3
    with pytest.raises(AirflowFailException, match="DNS name does not resolve"):
        sensor.execute_complete({}, event=event)


@pytest.mark.parametrize(
    ("event", "match"),
    [
        (None, "malformed event"),
        ({"no": "status"}, "malformed event"),
        ({"status": "error", "message": "boom"}, "failed: boom"),
        ({"status": "failed", "message": "HTTP 403"}, "failed: HTTP 403"),
        ({"status": "weird"}, "ended with status 'weird'"),
        ({"status": "success", "status_code": 503, "attempts": 1}, "without a ready status"),
    ],
)
def test_execute_complete_rejects_bad_events(event, match):
    sensor = make_sensor("http://127.0.0.1:1/hook", deferrable=True)
    with pytest.raises(AirflowException, match=match):
        sensor.execute_complete({}, event=event)


# -- templated arguments ----------------------------------------------------------------------------------


def test_templated_url_is_validated_after_rendering_before_any_request(local_webhook):
    sensor = make_sensor("{{ params.hook }}")  # not validated yet: it is a template
    assert sensor.url == "{{ params.hook }}"
    sensor.url = "ftp://127.0.0.1/hook"  # what rendering produced
    with pytest.raises(AirflowFailException, match=r"`url`.*http"):
        sensor.execute({})
    sensor.url = local_webhook.url("status/200")
    sensor.headers = {"X-Ok": 5}  # rendered headers are checked too
    with pytest.raises(AirflowFailException, match="`headers`"):
        sensor.execute({})
    assert local_webhook.hits == []  # no request was made


def test_template_fields():
    assert set(NexmoWebhookReadySensor.template_fields) == {"url", "headers"}


def test_deferrable_default_follows_airflow_config():
    import inspect

    from airflow.providers.common.compat.sdk import conf

    default = inspect.signature(NexmoWebhookReadySensor.__init__).parameters["deferrable"].default
    assert default is conf.getboolean("operators", "default_deferrable", fallback=False)


# -- parse cost and warnings --------------------------------------------------------------------------------


def test_import_is_cheap_and_warning_free():
    code = (
        "import sys, warnings\n"
        # What Airflow itself loads with the sensor base class is not ours to count (3.1's airflow.sdk
        # imports airflow.triggers.base; 3.3's does not).
        "from airflow.providers.common.compat.sdk import BaseSensorOperator\n"
        "baseline = set(sys.modules)\n"
        "warnings.simplefilter('error', DeprecationWarning)\n"
        "warnings.simplefilter('error', PendingDeprecationWarning)\n"
        "from airflow_provider_nexmo_numbers.sensors.webhook_ready import NexmoWebhookReadySensor\n"
        "NexmoWebhookReadySensor(task_id='t', url='https://example.com/hook', deferrable=True)\n"
        "import airflow_provider_nexmo_numbers.triggers.webhook_ready\n"  # what the provider list imports
        "heavy = [m for m in ('pyarrow', 'fastapi', 'uvicorn', 'requests', 'airflow.triggers.base',"
        " 'airflow_provider_nexmo_numbers.sandbox', 'airflow_provider_nexmo_numbers.triggers._webhook_ready',"
        " 'airflow_provider_nexmo_numbers.readiness.probe',"
        " 'airflow_provider_nexmo_numbers.readiness.progress')"
        " if m in sys.modules and m not in baseline]\n"
        "assert not heavy, heavy\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]


def test_url_from_an_upstream_task_is_checked_at_run_time():
    import pendulum
    from airflow.sdk import DAG, task

    with DAG("xcom_url", schedule=None, start_date=pendulum.datetime(2024, 1, 1)):

        @task
        def hook_url() -> str:
            return "https://hooks.example.com/sms"

        sensor = NexmoWebhookReadySensor(task_id="wait", url=hook_url(), timeout=timedelta(minutes=5))
    assert sensor.timeout == 300
