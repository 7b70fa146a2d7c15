"""NexmoWebhookReadyTrigger against real loopback endpoints: the sandbox's delayed webhook and a local server.

No assertion races a clock: readiness is by hit count (`/ready-after-hits/<n>`), and that the trigger sleeps
between attempts is read from the sleeps it asked for (`sleeps`), not from how fast the machine was.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import threading
import time
from urllib.parse import quote

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
        "max_permanent_failures": 3,
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


@pytest.fixture
def sleeps(monkeypatch) -> list[float]:
    """The durations the trigger asks asyncio.sleep for (it still sleeps them, for real)."""
    asked: list[float] = []
    real_sleep = asyncio.sleep
    # Only the trigger's thread: servers running in threads of this process (uvicorn polls with
    # asyncio.sleep(0.1)) go through the same patched function.
    trigger_thread = threading.get_ident()

    async def recording_sleep(delay, *args, **kwargs):
        if threading.get_ident() == trigger_thread:
            asked.append(delay)
        return await real_sleep(delay, *args, **kwargs)

    monkeypatch.setattr(asyncio, "sleep", recording_sleep)
    return asked


def test_fires_when_the_webhook_turns_ready(local_webhook, sleeps):
    url = local_webhook.url("ready-after-hits/2")
    payload, _ = run_until_event(NexmoWebhookReadyTrigger(url, poke_interval=0.2, request_timeout=2))
    assert payload == {"status": "success", "url": url, "status_code": 200, "attempts": 3}
    assert sleeps == [0.2, 0.2]  # one sleep after each 503, none after the 200


def test_immediately_ready_endpoint_fires_on_first_attempt(local_webhook):
    payload, _ = run_until_event(NexmoWebhookReadyTrigger(local_webhook.url("status/200"), poke_interval=5))
    assert payload["status"] == "success"
    assert payload["attempts"] == 1
    assert len(local_webhook.hits) == 1


def test_keeps_waiting_through_refused_connections_until_the_endpoint_comes_up(monkeypatch):
    port = closed_port()
    url = f"http://127.0.0.1:{port}/status/200"
    servers: list[LocalWebhook] = []
    real_sleep = asyncio.sleep
    trigger_thread = threading.get_ident()  # not a server thread's own asyncio.sleep (see `sleeps`)

    async def start_server_then_sleep(delay, *args, **kwargs):
        # The first attempt was refused: bring the endpoint up during the wait.
        if not servers and threading.get_ident() == trigger_thread:
            servers.append(LocalWebhook(port).__enter__())
        return await real_sleep(delay, *args, **kwargs)

    monkeypatch.setattr(asyncio, "sleep", start_server_then_sleep)
    try:
        payload, _ = run_until_event(NexmoWebhookReadyTrigger(url, poke_interval=0.05, request_timeout=1))
    finally:
        for server in servers:
            server.__exit__(None, None, None)
    assert payload == {"status": "success", "url": url, "status_code": 200, "attempts": 2}


def test_refused_connection_until_deadline_gives_a_timeout_event_after_sleeping(sleeps):
    url = f"http://127.0.0.1:{closed_port()}/hook"
    trigger = NexmoWebhookReadyTrigger(url, poke_interval=0.25, deadline=time.time() + 0.6)
    payload, _ = run_until_event(trigger)
    assert payload["status"] == "timeout"
    assert payload["status_code"] is None
    assert "did not answer [200]" in payload["message"]
    assert payload["attempts"] == len(sleeps) + 1  # a sleep after every attempt but the last
    assert all(s == 0.25 for s in sleeps[:-1])  # the last may be shortened to land on the deadline
    assert all(s >= 0.1 for s in sleeps)


def test_poke_interval_zero_still_sleeps_between_attempts(sleeps):
    url = f"http://127.0.0.1:{closed_port()}/hook"
    trigger = NexmoWebhookReadyTrigger(url, poke_interval=0, deadline=time.time() + 0.5)
    payload, _ = run_until_event(trigger)
    assert payload["status"] == "timeout"
    assert sleeps
    assert all(s == 0.1 for s in sleeps)  # the floor, not a spin


@pytest.mark.parametrize("status", [500, 502, 503, 404, 429])
def test_server_errors_and_transient_statuses_are_not_ready(local_webhook, status):
    trigger = NexmoWebhookReadyTrigger(
        local_webhook.url(f"status/{status}"), poke_interval=0.05, deadline=time.time() + 0.3
    )
    payload, _ = run_until_event(trigger)
    assert payload["status"] == "timeout"
    assert payload["status_code"] == status
    assert len(local_webhook.hits) == payload["attempts"]


@pytest.mark.parametrize("status", [401, 403, 405])
def test_a_4xx_that_cannot_fix_itself_ends_the_wait_with_a_failed_event(local_webhook, status):
    trigger = NexmoWebhookReadyTrigger(local_webhook.url(f"status/{status}"), poke_interval=0.01)
    payload, _ = run_until_event(trigger)  # no deadline: only the permanent answers end it
    assert payload["status"] == "failed"
    assert payload["attempts"] == 3
    assert payload["status_code"] == status
    assert "can never be ready" in payload["message"]


def test_tls_failure_is_not_ready(local_webhook):
    # https:// against a plain-HTTP server: the TLS handshake fails, which only means "not live yet".
    url = f"https://127.0.0.1:{local_webhook.port}/status/200"
    payload, _ = run_until_event(
        NexmoWebhookReadyTrigger(url, poke_interval=0.05, deadline=time.time() + 0.3)
    )
    assert payload["status"] == "timeout"
    assert payload["status_code"] is None
    assert payload["attempts"] >= 1


def test_request_timeout_is_not_ready(local_webhook):
    trigger = NexmoWebhookReadyTrigger(
        local_webhook.url("hang/2"), request_timeout=0.3, poke_interval=0.1, deadline=time.time() + 0.2
    )
    payload, _ = run_until_event(trigger)
    assert payload["status"] == "timeout"
    assert payload["status_code"] is None
    assert "request_timeout=0.3s" in payload["message"]


def test_request_timeout_bounds_a_whole_attempt_against_a_trickling_server(local_webhook):
    # 20 s to send the headers, a byte every ~0.07 s: a per-read timeout of 0.5 s would never fire.
    trigger = NexmoWebhookReadyTrigger(
        local_webhook.url("trickle/20"), request_timeout=0.5, poke_interval=0.1, deadline=time.time()
    )
    payload, _ = run_until_event(trigger)
    assert payload["status"] == "timeout"
    assert payload["attempts"] == 1
    assert "no complete answer within request_timeout=0.5s" in payload["message"]


def test_secret_headers_are_dropped_on_a_redirect_to_another_origin(local_webhook):
    secret = {"X-Hook-Secret": "s3cret", "Authorization": "Bearer t0ken"}
    with LocalWebhook() as other:
        start = local_webhook.url(f"redirect?to={quote(other.url('status/200'), safe='')}")
        payload, _ = run_until_event(NexmoWebhookReadyTrigger(start, headers=secret))
    assert payload["status"] == "success"
    assert [h.get("X-Hook-Secret") for _, h in local_webhook.requests] == ["s3cret"]
    assert [(h.get("X-Hook-Secret"), h.get("Authorization")) for _, h in other.requests] == [(None, None)]


def test_headers_are_sent(local_webhook):
    url = local_webhook.url("headers")
    ok, _ = run_until_event(NexmoWebhookReadyTrigger(url, headers={"X-Hook-Secret": "s3cret"}))
    assert ok["status"] == "success"
    refused, _ = run_until_event(NexmoWebhookReadyTrigger(url, poke_interval=0.01, max_permanent_failures=2))
    assert refused["status"] == "failed"  # 401 twice in a row: the secret is wrong, waiting cannot help
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


def test_attempts_are_summarised_and_never_show_the_query(local_webhook, capfd):
    url = local_webhook.url("ready-after-hits/8") + "?token=abc"
    run_until_event(NexmoWebhookReadyTrigger(url, poke_interval=0.01))
    out, err = capfd.readouterr()  # Airflow logs through structlog to the console
    lines = [line for line in (out + err).splitlines() if "Webhook" in line]
    # 9 attempts: the first, summaries at 2, 4 and 8, the 200: five lines, not nine.
    assert len(lines) == 5, lines
    assert "HTTP 503 x8" in lines[3]
    assert "HTTP 200: ready" in lines[4]
    assert all("token=abc" not in line for line in lines)  # query strings may carry credentials
