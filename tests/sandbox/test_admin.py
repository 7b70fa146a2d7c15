"""The admin API (/_sandbox): reset, stats shape, seeding, inspection, demo webhooks, errors."""

from __future__ import annotations

import time

import pytest
import requests

from airflow_provider_nexmo_numbers.sandbox import SandboxAdminError

STATS_KEYS = {
    "requests", "api_requests", "token_requests", "tokens_issued", "tokens_revoked", "unknown_fields",
    "purchases", "cancellations", "updates", "writes", "faults", "webhook_checks",
}  # fmt: skip


def test_stats_shape_after_some_traffic(sandbox, api):
    msisdn = api.first_available("GB")["msisdn"]
    api.buy("GB", msisdn)
    api.post("/number/update", country="GB", msisdn=msisdn, bogus="1")
    api.post("/number/cancel", country="GB", msisdn=msisdn)
    stats = sandbox.admin.stats()
    assert set(stats) == STATS_KEYS
    assert stats["requests"] == {
        "token": {"200": 1},
        "GET /number/search": {"200": 1},
        "POST /number/buy": {"200": 1},
        "POST /number/update": {"200": 1},
        "POST /number/cancel": {"200": 1},
    }
    assert stats["api_requests"] == 4
    assert stats["token_requests"] == 1
    assert stats["tokens_issued"] == 1
    assert stats["unknown_fields"] == {"bogus": 1}
    assert stats["purchases"] == stats["cancellations"] == stats["updates"] == {msisdn: 1}
    assert stats["writes"] == 3


def test_reset_restores_everything(sandbox, api):
    msisdn = api.first_available("GB")["msisdn"]
    api.buy("GB", msisdn)
    sandbox.admin.set_faults(error_rate=1.0)
    sandbox.admin.queue_fault("status", status=500)
    sandbox.admin.set_quota(1)
    sandbox.admin.configure(webhook_check=False, token_ttl=5)
    answer = sandbox.admin.reset()
    assert answer == {"seed": 7, "owned_numbers": 0, "pool": 15 * 60}
    assert sandbox.admin.stats()["api_requests"] == 0
    assert sandbox.admin.owned() == []
    faults = sandbox.admin.faults()
    assert faults["error_rate"] == 0.0
    assert faults["queued"] == []
    config = sandbox.admin.config()
    assert config["settings"] == {
        "webhook_check": True,
        "webhook_allow_loopback": True,  # the test session's sandbox allows it (tests/fixtures/sandbox.py)
        "strict": False,
        "read_lag": 0.0,
        "token_ttl": 3599,
        "webhook_timeout": 2.0,
        "quota_rps": None,
    }
    api._token = None
    assert api.get("/account/numbers").status_code == 200
    assert msisdn in [n["msisdn"] for n in sandbox.admin.pool("GB")]


def test_reset_with_seed_and_owned_numbers(sandbox):
    assert sandbox.admin.reset(seed=11, owned_numbers=42)["seed"] == 11
    assert len(sandbox.admin.owned()) == 42
    assert sandbox.admin.config()["seed"] == 11


def test_seed_owned_appends_without_collisions(sandbox):
    first = sandbox.admin.seed_owned(3, country="DE")
    second = sandbox.admin.seed_owned(2, country="DE", configured=False)
    assert first["first"] == "4916000000000"
    assert second["first"] == "4916000000003"
    assert second["owned"] == 5
    owned = sandbox.admin.owned()
    assert len({n["msisdn"] for n in owned}) == 5
    assert sum("moHttpUrl" in n for n in owned) == 3


def test_admin_errors(sandbox):
    with pytest.raises(SandboxAdminError) as info:
        sandbox.admin.seed_owned(1, client_id="nobody")
    assert info.value.status == 404
    with pytest.raises(SandboxAdminError) as info:
        sandbox.admin.seed_owned(1, country="JP")
    assert info.value.status == 400
    assert "country must be one of" in info.value.detail
    with pytest.raises(SandboxAdminError):
        sandbox.admin.set_quota(0)
    with pytest.raises(SandboxAdminError):
        sandbox.admin.configure(token_ttl=0)
    response = requests.post(sandbox.url + "/_sandbox/reset", data="not json", timeout=5)
    assert response.status_code == 400
    response = requests.post(sandbox.url + "/_sandbox/reset", json={"sed": 1}, timeout=5)
    assert response.status_code == 400
    assert "unknown field(s): sed" in response.json()["detail"]


def test_demo_webhook_becomes_ready_after_its_delay(sandbox):
    url = sandbox.admin.webhook_url("campaign", ready_after=0.4)
    assert url == sandbox.url + "/_sandbox/webhooks/campaign"
    first = requests.get(url, timeout=5)
    assert first.status_code == 503
    assert first.json()["ready"] is False
    time.sleep(0.45)
    ready = requests.get(url, timeout=5)
    assert ready.status_code == 200
    assert ready.json() == {"name": "campaign", "ready": True}
    assert requests.post(url, data={"text": "hi"}, timeout=5).status_code == 200
    (hook,) = [h for h in sandbox.admin.webhooks() if h["name"] == "campaign"]
    assert hook["hits"] == {"GET": 2, "POST": 1}


def test_default_demo_webhook_and_unknown_ones(sandbox):
    assert (
        requests.get(sandbox.url + "/_sandbox/webhooks/demo", timeout=5).status_code == 503
    )  # 5 s by default
    assert requests.get(sandbox.url + "/_sandbox/webhooks/nope", timeout=5).status_code == 404
    url = sandbox.admin.webhook_url("broken", ready_after=60, status_until_ready=500)
    assert requests.get(url, timeout=5).status_code == 500


def test_admin_traffic_is_not_counted(sandbox):
    sandbox.admin.stats()
    sandbox.admin.pool()
    requests.get(sandbox.url + "/_sandbox/health", timeout=5)
    assert sandbox.admin.stats()["requests"] == {}


def test_openapi_docs_live_under_the_admin_prefix(sandbox):
    assert requests.get(sandbox.url + "/_sandbox/openapi.json", timeout=5).status_code == 200
    assert requests.get(sandbox.url + "/docs", timeout=5).status_code == 404
