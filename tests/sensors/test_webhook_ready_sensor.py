"""NexmoWebhookReadySensor driven directly (execute / poke / execute_complete) against loopback endpoints."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import timedelta

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
from tests.sensors.webhook_server import closed_port
from tests.triggers.conftest import run_until_event

pytestmark = pytest.mark.timeout(60)


def make_sensor(url: str, **kwargs) -> NexmoWebhookReadySensor:
    kwargs.setdefault("poke_interval", 0.2)
    kwargs.setdefault("timeout", 20)
    kwargs.setdefault("request_timeout", 2)
    return NexmoWebhookReadySensor(task_id="wait_for_webhook", url=url, **kwargs)


# -- poke mode --------------------------------------------------------------------------------------------


def test_poke_mode_waits_for_the_delayed_webhook(delayed_webhook):
    url = delayed_webhook(1.2)
    started = time.monotonic()
    result = make_sensor(url, poke_interval=0.3).execute({})
    assert result == {"url": url, "status_code": 200, "attempts": result["attempts"]}
    assert 2 <= result["attempts"] <= 12
    assert time.monotonic() - started >= 1.0


def test_poke_mode_waits_through_refused_connections():
    sensor = make_sensor(f"http://127.0.0.1:{closed_port()}/hook", poke_interval=0.2, timeout=0.8)
    with pytest.raises(AirflowSensorTimeout):
        sensor.execute({})
    assert 3 <= sensor._attempts <= 10  # kept trying, with sleeps, and never failed on "refused"


def test_poke_returns_false_for_5xx_tls_failure_and_request_timeout(local_webhook):
    for url, kwargs in [
        (local_webhook.url("status/500"), {}),
        (local_webhook.url("status/502"), {}),
        (f"https://127.0.0.1:{local_webhook.port}/status/200", {}),  # TLS handshake against plain HTTP
        (local_webhook.url("hang/2"), {"request_timeout": 0.3}),
    ]:
        assert make_sensor(url, **kwargs).poke({}) is False, url


def test_never_ready_endpoint_times_out_within_its_timeout(delayed_webhook):
    sensor = make_sensor(delayed_webhook(3600), poke_interval=0.3, timeout=1.5)
    started = time.monotonic()
    with pytest.raises(AirflowSensorTimeout):
        sensor.execute({})
    assert time.monotonic() - started < 10


def test_never_ready_endpoint_skips_with_soft_fail(delayed_webhook):
    sensor = make_sensor(delayed_webhook(3600), poke_interval=0.3, timeout=1.0, soft_fail=True)
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
    assert make_sensor(hook, headers={"X-Hook-Secret": "wrong"}).poke({}) is False


def test_credential_headers_are_masked(local_webhook, monkeypatch):
    masked: list[str] = []
    monkeypatch.setattr("airflow_provider_nexmo_numbers.sensors.webhook_ready.mask_secret", masked.append)
    headers = {"X-Hook-Secret": "s3cret", "Authorization": "Bearer abc", "Accept": "text/plain"}
    make_sensor(local_webhook.url("headers"), headers=headers).execute({})
    assert sorted(masked) == ["Bearer abc", "s3cret"]


def test_attempts_are_logged_one_line_each(delayed_webhook, capfd):
    make_sensor(delayed_webhook(0.6), poke_interval=0.2).execute({})
    out, err = capfd.readouterr()
    lines = [line for line in (out + err).splitlines() if "Webhook readiness attempt" in line]
    assert len(lines) >= 2
    assert "-> HTTP 503: not ready yet" in lines[0]
    assert "-> HTTP 200: ready" in lines[-1]


# -- deferrable -------------------------------------------------------------------------------------------


def test_deferral_raises_task_deferred_with_the_right_trigger_and_timeout(delayed_webhook):
    url = delayed_webhook(1.0)
    sensor = make_sensor(
        url,
        deferrable=True,
        timeout=90,
        poke_interval=0.25,
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
        "poke_interval": 0.25,
    }

    # The trigger fires once the webhook turns ready; the resumed task returns the XCom value.
    event, _ = run_until_event(exc.trigger)
    assert event["status"] == "success"
    result = sensor.execute_complete({}, event=event, **exc.kwargs)
    assert result == {"url": url, "status_code": 200, "attempts": 1 + event["attempts"]}


def test_deferrable_returns_at_once_when_already_ready(local_webhook):
    result = make_sensor(local_webhook.url("status/200"), deferrable=True).execute({})
    assert result["status_code"] == 200
    assert result["attempts"] == 1


def test_deferrable_never_ready_trigger_times_out(delayed_webhook):
    sensor = make_sensor(delayed_webhook(3600), deferrable=True, timeout=1.0, poke_interval=0.25)
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute({})
    started = time.monotonic()
    event, _ = run_until_event(deferred.value.trigger)
    assert time.monotonic() - started < 5
    assert event["status"] == "timeout"
    assert event["status_code"] == 503
    with pytest.raises(AirflowSensorTimeout, match="did not answer"):
        sensor.execute_complete({}, event=event)
    soft = make_sensor(sensor.url, deferrable=True, timeout=1.0, soft_fail=True)
    with pytest.raises(AirflowSkipException):
        soft.execute_complete({}, event=event)


@pytest.mark.parametrize(
    ("event", "match"),
    [
        (None, "malformed event"),
        ({"no": "status"}, "malformed event"),
        ({"status": "error", "message": "boom"}, "failed: boom"),
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
        "warnings.simplefilter('error', DeprecationWarning)\n"
        "warnings.simplefilter('error', PendingDeprecationWarning)\n"
        "from airflow_provider_nexmo_numbers.sensors.webhook_ready import NexmoWebhookReadySensor\n"
        "NexmoWebhookReadySensor(task_id='t', url='https://example.com/hook', deferrable=True)\n"
        "heavy = [m for m in ('pyarrow', 'fastapi', 'uvicorn', 'requests',"
        " 'airflow_provider_nexmo_numbers.sandbox', 'airflow_provider_nexmo_numbers.triggers.webhook_ready')"
        " if m in sys.modules]\n"
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
