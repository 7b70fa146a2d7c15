"""NexmoWebhookReadyTrigger against real loopback endpoints: the sandbox's delayed webhook and a local server.

Timing assertions use generous bounds only: they prove the trigger sleeps between attempts (a tight loop would
make hundreds of attempts) without depending on the machine being fast.
"""

from __future__ import annotations

import importlib
import itertools
import json
import threading
import time

import pytest

from airflow_provider_nexmo_numbers.triggers.webhook_ready import NexmoWebhookReadyTrigger
from tests.sensors.webhook_server import LocalWebhook, closed_port
from tests.triggers.conftest import run_until_event

pytestmark = pytest.mark.timeout(60)


def rebuild(trigger: NexmoWebhookReadyTrigger) -> NexmoWebhookReadyTrigger:
    classpath, kwargs = trigger.serialize()
    module_name, _, class_name = classpath.rpartition(".")
    cls = getattr(importlib.import_module(module_name), class_name)
    return cls(**json.loads(json.dumps(kwargs)))  # through JSON, as the triggerer stores it


def test_serialize_round_trip_rebuilds_an_equal_trigger():
    trigger = NexmoWebhookReadyTrigger(
        "https://hooks.example.com/sms?x=1",
        headers={"X-Hook-Secret": "s3cret"},
        expected_statuses={204, 200},
        request_timeout=3,
        poke_interval=1.5,
        deadline=1_900_000_000,
    )
    classpath, kwargs = trigger.serialize()
    assert classpath == "airflow_provider_nexmo_numbers.triggers.webhook_ready.NexmoWebhookReadyTrigger"
    assert kwargs == {
        "url": "https://hooks.example.com/sms?x=1",
        "headers": {"X-Hook-Secret": "s3cret"},
        "expected_statuses": [200, 204],
        "request_timeout": 3.0,
        "poke_interval": 1.5,
        "deadline": 1_900_000_000.0,
    }
    rebuilt = rebuild(trigger)
    assert rebuilt.serialize() == trigger.serialize()
    assert rebuild(rebuilt).serialize() == trigger.serialize()  # stable across repeated triggerer restarts


def test_defaults_round_trip():
    trigger = NexmoWebhookReadyTrigger("http://127.0.0.1:1/hook")
    assert rebuild(trigger).serialize() == trigger.serialize()
    assert trigger.serialize()[1]["expected_statuses"] == [200]
    assert trigger.serialize()[1]["deadline"] is None


def test_fires_when_the_delayed_webhook_turns_ready(delayed_webhook):
    url = delayed_webhook(1.2)
    payload, elapsed = run_until_event(NexmoWebhookReadyTrigger(url, poke_interval=0.3, request_timeout=2))
    assert payload == {"status": "success", "url": url, "status_code": 200, "attempts": payload["attempts"]}
    # 503s for ~1.2 s at one attempt per ~0.3 s: a few attempts, never a tight loop.
    assert 2 <= payload["attempts"] <= 12
    assert elapsed >= 1.0


def test_immediately_ready_endpoint_fires_on_first_attempt(local_webhook):
    payload, _ = run_until_event(NexmoWebhookReadyTrigger(local_webhook.url("status/200"), poke_interval=5))
    assert payload["status"] == "success"
    assert payload["attempts"] == 1
    assert len(local_webhook.hits) == 1


def test_keeps_waiting_through_refused_connections_until_the_endpoint_comes_up():
    port = closed_port()
    url = f"http://127.0.0.1:{port}/status/200"
    servers: list[LocalWebhook] = []

    def start_server() -> None:
        servers.append(LocalWebhook(port).__enter__())

    timer = threading.Timer(1.0, start_server)
    timer.start()
    try:
        trigger = NexmoWebhookReadyTrigger(url, poke_interval=0.25, request_timeout=1)
        payload, elapsed = run_until_event(trigger)
    finally:
        timer.cancel()
        for server in servers:
            server.__exit__(None, None, None)
    assert payload["status"] == "success"
    assert payload["status_code"] == 200
    assert payload["attempts"] >= 2  # at least one refused attempt before the server existed
    assert payload["attempts"] <= 15
    assert elapsed >= 0.9


def test_refused_connection_until_deadline_gives_a_timeout_event_after_sleeping():
    url = f"http://127.0.0.1:{closed_port()}/hook"
    trigger = NexmoWebhookReadyTrigger(url, poke_interval=0.25, deadline=time.time() + 1.0)
    payload, elapsed = run_until_event(trigger)
    assert payload["status"] == "timeout"
    assert payload["status_code"] is None
    assert 3 <= payload["attempts"] <= 10  # ~1 s / 0.25 s; a tight loop would make thousands
    assert "did not answer [200]" in payload["message"]
    assert 0.9 <= elapsed < 10


def test_poke_interval_zero_still_sleeps_between_attempts():
    url = f"http://127.0.0.1:{closed_port()}/hook"
    trigger = NexmoWebhookReadyTrigger(url, poke_interval=0, deadline=time.time() + 0.8)
    payload, _ = run_until_event(trigger)
    assert payload["status"] == "timeout"
    assert payload["attempts"] <= 12  # the 0.1 s floor, not a spin


@pytest.mark.parametrize("status", [500, 502, 503, 404])
def test_server_errors_and_unexpected_statuses_are_not_ready(local_webhook, status):
    trigger = NexmoWebhookReadyTrigger(
        local_webhook.url(f"status/{status}"), poke_interval=0.2, deadline=time.time() + 0.7
    )
    payload, _ = run_until_event(trigger)
    assert payload["status"] == "timeout"
    assert payload["status_code"] == status
    assert 2 <= payload["attempts"] <= 8
    assert len(local_webhook.hits) == payload["attempts"]


def test_attempts_are_spaced_by_poke_interval(local_webhook):
    trigger = NexmoWebhookReadyTrigger(
        local_webhook.url("status/503"), poke_interval=0.3, deadline=time.time() + 1.3
    )
    run_until_event(trigger)
    times = [at for _, at in local_webhook.hits]
    assert len(times) >= 3
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert min(gaps[:-1]) >= 0.25  # the last gap may be shortened to land on the deadline


def test_tls_failure_is_not_ready(local_webhook):
    # https:// against a plain-HTTP server: the TLS handshake fails, which only means "not live yet".
    url = f"https://127.0.0.1:{local_webhook.port}/status/200"
    payload, _ = run_until_event(NexmoWebhookReadyTrigger(url, poke_interval=0.2, deadline=time.time() + 0.6))
    assert payload["status"] == "timeout"
    assert payload["status_code"] is None
    assert payload["attempts"] >= 2


def test_request_timeout_is_not_ready(local_webhook):
    trigger = NexmoWebhookReadyTrigger(
        local_webhook.url("hang/2"), request_timeout=0.3, poke_interval=0.1, deadline=time.time() + 0.5
    )
    payload, elapsed = run_until_event(trigger)
    assert payload["status"] == "timeout"
    assert payload["status_code"] is None
    assert payload["attempts"] >= 1
    assert elapsed < 5  # each request was cut at request_timeout, not left to hang


def test_headers_are_sent(local_webhook):
    url = local_webhook.url("headers")
    ok, _ = run_until_event(NexmoWebhookReadyTrigger(url, headers={"X-Hook-Secret": "s3cret"}))
    assert ok["status"] == "success"
    refused, _ = run_until_event(NexmoWebhookReadyTrigger(url, poke_interval=0.1, deadline=time.time() + 0.3))
    assert refused["status"] == "timeout"
    assert refused["status_code"] == 401


def test_custom_expected_statuses(local_webhook):
    trigger = NexmoWebhookReadyTrigger(local_webhook.url("status/204"), expected_statuses=[200, 204])
    payload, _ = run_until_event(trigger)
    assert payload == {
        "status": "success",
        "url": local_webhook.url("status/204"),
        "status_code": 204,
        "attempts": 1,
    }


def test_each_attempt_is_logged_in_one_line(local_webhook, capfd):
    url = local_webhook.url("status/503") + "?token=abc"
    run_until_event(NexmoWebhookReadyTrigger(url, poke_interval=0.1, deadline=time.time() + 0.25))
    out, err = capfd.readouterr()  # Airflow logs through structlog to the console
    lines = [line for line in (out + err).splitlines() if "Webhook readiness attempt" in line]
    assert len(lines) >= 2
    assert all("\n" not in line and "HTTP 503" in line and "not ready yet" in line for line in lines)
    assert all("token=abc" not in line for line in lines)  # query strings may carry credentials
