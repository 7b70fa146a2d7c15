"""Fault injection: queued one-shot and seeded probabilistic faults, hangs, drops after commit, revocation."""

from __future__ import annotations

import dataclasses
import inspect
import threading
import time

import pytest
import requests

from airflow_provider_nexmo_numbers.sandbox import SandboxAdmin, SandboxAdminError
from airflow_provider_nexmo_numbers.sandbox.config import FaultSettings

from .conftest import METHOD_FAILED, Vonage, new_session

UNAVAILABLE = {
    "fault": {
        "faultstring": "The Service is temporarily unavailable",
        "detail": {"errorcode": "messaging.adaptors.http.flow.ServiceUnavailable"},
    }
}


def test_queued_status_fault_answers_once(sandbox, api):
    api.token  # noqa: B018
    sandbox.admin.queue_fault("status", "GET /account/numbers", status=503)
    first = api.get("/account/numbers")
    assert first.status_code == 503
    assert first.json() == UNAVAILABLE
    assert first.headers["x-sandbox-reason"] == "injected fault"
    assert "Retry-After" not in first.headers
    assert api.get("/account/numbers").status_code == 200
    stats = sandbox.admin.stats()
    assert stats["requests"]["GET /account/numbers"] == {"503": 1, "200": 1}
    assert stats["faults"] == {"status": 1}


def test_queued_fault_targets_only_its_operation_and_counts(sandbox, api):
    sandbox.admin.queue_fault("status", "POST /number/buy", status=500, count=2)
    assert api.get("/account/numbers").status_code == 200
    msisdn = api.first_available("GB")["msisdn"]
    assert [api.buy("GB", msisdn).status_code for _ in range(3)] == [500, 500, 200]
    assert sandbox.admin.stats()["purchases"] == {msisdn: 1}  # the failed attempts changed nothing


def test_queued_429_carries_retry_after(sandbox, api):
    api.token  # noqa: B018
    sandbox.admin.queue_fault("status", status=429, retry_after=2)  # operation None: any API operation
    response = api.get("/number/search", country="GB")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "2"
    assert response.json()["fault"]["detail"]["errorcode"] == "policies.ratelimit.QuotaViolation"


def test_any_operation_fault_skips_the_token_endpoint_but_token_faults_hit_it(sandbox, api):
    sandbox.admin.queue_fault("status", status=502)
    assert api.token  # the token request is not "any API operation"
    assert api.get("/account/numbers").status_code == 502
    sandbox.admin.queue_fault("status", "token", status=503)
    response = requests.post(
        sandbox.token_url,
        params={"grant_type": "client_credentials"},
        data={"client_id": sandbox.client_id, "client_secret": sandbox.client_secret},
        timeout=5,
    )
    assert response.status_code == 503
    assert sandbox.admin.stats()["requests"]["token"] == {"200": 1, "503": 1}


def test_hang_outlasts_the_client_timeout_while_the_server_stays_responsive(sandbox, api):
    api.token  # noqa: B018
    sandbox.admin.queue_fault("hang", "GET /account/numbers", seconds=1.0)
    t0 = time.perf_counter()
    with pytest.raises(requests.exceptions.ReadTimeout):
        api.get("/account/numbers", timeout=0.3)
    assert time.perf_counter() - t0 < 0.9
    other = new_session()
    t0 = time.perf_counter()
    assert other.get(sandbox.base_url + "/account/numbers", headers=api.headers, timeout=2).status_code == 200
    assert time.perf_counter() - t0 < 0.3
    time.sleep(0.8)  # the hung request is processed once its hang is over
    assert sandbox.admin.stats()["requests"]["GET /account/numbers"] == {"200": 2}


def test_reset_releases_hung_requests(sandbox, api):
    api.token  # noqa: B018
    sandbox.admin.queue_fault("hang", seconds=30)
    result = {}
    thread = threading.Thread(target=lambda: result.update(r=api.get("/account/numbers", timeout=10)))
    thread.start()
    time.sleep(0.2)
    sandbox.admin.reset()
    thread.join(5)
    assert result["r"].status_code == 504
    assert result["r"].json()["fault"]["faultstring"] == "Gateway Timeout"
    # the released answer belongs to the world before the reset: the fresh stats must not count it
    assert sandbox.admin.stats()["requests"] == {}


@pytest.mark.parametrize("operation", ["POST /number/buy", "POST /number/cancel", "POST /number/update"])
def test_drop_after_commit_closes_the_connection_after_the_write(sandbox, api, operation):
    msisdn = api.first_available("GB")["msisdn"]
    if operation != "POST /number/buy":
        assert api.buy("GB", msisdn).status_code == 200
    sandbox.admin.queue_fault("drop_after_commit", operation)
    path = operation.split()[1]
    data = {"country": "GB", "msisdn": msisdn}
    if operation == "POST /number/update":
        data["moSmppSysType"] = "inbound"
    with pytest.raises(requests.exceptions.ConnectionError) as info:
        api.post(path, **data)
    assert "without response" in str(info.value) or "reset" in str(info.value).lower()
    stats = sandbox.admin.stats()
    assert stats["requests"][operation] == {"dropped": 1}
    assert stats["faults"] == {"drop_after_commit": 1}
    owned = {n["msisdn"]: n for n in sandbox.admin.owned()}
    if operation == "POST /number/buy":
        assert stats["purchases"] == {msisdn: 1}
        assert msisdn in owned
        retry = api.buy("GB", msisdn)  # the naive retry of a committed buy
        assert retry.status_code == 420
        assert retry.json() == METHOD_FAILED
        assert sandbox.admin.stats()["purchases"] == {msisdn: 1}
    elif operation == "POST /number/cancel":
        assert stats["cancellations"] == {msisdn: 1}
        assert msisdn not in owned
    else:
        assert stats["updates"] == {msisdn: 1}
        assert owned[msisdn]["moSmppSysType"] == "inbound"


def test_drop_after_commit_rate(sandbox, api):
    numbers = [n["msisdn"] for n in api.search("GB", size=3)["numbers"]]
    sandbox.admin.set_faults(drop_after_commit_rate=1.0)
    assert api.get("/account/numbers").status_code == 200  # reads are never dropped
    for msisdn in numbers:
        with pytest.raises(requests.exceptions.ConnectionError):
            api.buy("GB", msisdn)
    assert sandbox.admin.stats()["purchases"] == dict.fromkeys(numbers, 1)


def test_revoke_token_fault(sandbox, api):
    api.token  # noqa: B018
    sandbox.admin.queue_fault("revoke_token", "GET /number/search")
    response = api.get("/number/search", country="GB")
    assert response.status_code == 401
    assert response.json()["fault"]["detail"]["errorcode"] == "keymanagement.service.invalid_access_token"
    assert api.get("/account/numbers").status_code == 401  # the token stays revoked
    api._token = None
    assert api.get("/account/numbers").status_code == 200
    assert sandbox.admin.stats()["tokens_revoked"] == 1


def statuses(api, n=30):
    return [api.get("/account/numbers").status_code for _ in range(n)]


def test_probabilistic_faults_repeat_for_a_seed(sandbox, api):
    api.token  # noqa: B018
    sandbox.admin.set_faults(error_rate=0.5, seed=3)
    first = statuses(api)
    assert 200 in first
    assert set(first) - {200} <= {500, 502, 503, 429}
    assert len(set(first)) >= 3
    sandbox.admin.set_faults(error_rate=0.5, seed=3)
    assert statuses(api) == first
    sandbox.admin.set_faults(error_rate=0.5, seed=4)
    assert statuses(api) != first
    sandbox.admin.set_faults()  # all off
    assert set(statuses(api, 5)) == {200}


def test_probabilistic_429s_carry_the_configured_retry_after(sandbox, api):
    api.token  # noqa: B018
    sandbox.admin.set_faults(error_rate=1.0, error_statuses=[429])
    assert api.get("/account/numbers").headers["Retry-After"] == "1"  # the default
    faults = sandbox.admin.set_faults(error_rate=1.0, error_statuses=[429], retry_after=0.05)
    assert faults["retry_after"] == 0.05
    response = api.get("/account/numbers")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "0.05"
    sandbox.admin.set_faults(error_rate=1.0, error_statuses=[503], retry_after=0.05)
    assert "Retry-After" not in api.get("/account/numbers").headers  # only 429s ask to wait


def test_only_the_configured_statuses(sandbox, api):
    api.token  # noqa: B018
    sandbox.admin.set_faults(error_rate=1.0, error_statuses=[502])
    response = api.get("/account/numbers")
    assert response.status_code == 502
    assert response.json()["fault"]["faultstring"] == "Bad Gateway"


def test_latency_and_probabilistic_hang(sandbox, api):
    api.token  # noqa: B018
    sandbox.admin.set_faults(latency_ms=150)
    t0 = time.perf_counter()
    assert api.get("/account/numbers").status_code == 200
    assert time.perf_counter() - t0 >= 0.15
    sandbox.admin.set_faults(hang_rate=1.0, hang_seconds=0.2)
    t0 = time.perf_counter()
    assert api.get("/account/numbers").status_code == 200
    assert time.perf_counter() - t0 >= 0.2


def test_revoke_rate(sandbox, api):
    api.token  # noqa: B018
    sandbox.admin.set_faults(revoke_token_rate=1.0)
    assert api.get("/account/numbers").status_code == 401


def test_faults_in_the_vonage_flavour_use_vonage_bodies(sandbox):
    sandbox.admin.queue_fault("status", status=503)
    response = Vonage(sandbox).get("/account/numbers")
    assert response.status_code == 503
    assert response.json() == {"error-code": "503", "error-code-label": "service unavailable"}


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda a: a.queue_fault("explode"), "kind must be one of"),
        (lambda a: a.queue_fault("status"), "needs status"),
        (lambda a: a.queue_fault("status", "GET /nowhere", status=500), "operation must be"),
        (lambda a: a.queue_fault("drop_after_commit", "token"), "cannot target the token"),
        (lambda a: a.set_faults(error_rate=2), "between 0 and 1"),
        (lambda a: a.set_faults(error_rate=0.6, hang_rate=0.6), "must not exceed 1"),
        (lambda a: a.set_faults(error_rate=0.5, error_statuses=[200]), "HTTP error statuses"),
        (lambda a: a.set_faults(retry_after=-1), "retry_after must be between"),
    ],
)
def test_bad_fault_settings_are_rejected(sandbox, call, message):
    with pytest.raises(SandboxAdminError) as info:
        call(sandbox.admin)
    assert info.value.status == 400
    assert message in info.value.detail


def test_admin_set_faults_takes_the_fault_settings_with_their_defaults(sandbox):
    """The admin client spells the knobs out for its users; they must stay the one definition's."""
    parameters = list(inspect.signature(SandboxAdmin.set_faults).parameters.values())[1:]
    assert [(p.name, p.default) for p in parameters] == [
        (f.name, f.default) for f in dataclasses.fields(FaultSettings)
    ]
    assert {k: v for k, v in sandbox.admin.set_faults().items() if k != "queued"} == FaultSettings().to_dict()


def test_error_code_fault_is_http_200_with_a_failure_envelope(sandbox, api):
    msisdn = api.first_available("GB")["msisdn"]
    sandbox.admin.queue_fault("error_code", "POST /number/buy", status=500)
    response = api.buy("GB", msisdn)
    assert response.status_code == 200
    assert response.json() == {"error-code": "500", "error-code-label": "internal error"}
    assert sandbox.admin.stats()["purchases"] == {}
    assert api.buy("GB", msisdn).json() == {"error-code": "200", "error-code-label": "success"}


def test_token_endpoint_faults(sandbox):
    def grant():
        return requests.post(
            sandbox.token_url,
            params={"grant_type": "client_credentials"},
            data={"client_id": sandbox.client_id, "client_secret": sandbox.client_secret},
            timeout=5,
        )

    sandbox.admin.queue_fault("revoke_token", "token")
    response = grant()
    assert response.status_code == 401
    assert response.json() == {"ErrorCode": "invalid_client", "Error": "Client credentials are invalid"}
    sandbox.admin.queue_fault("hang", "token", seconds=0.3)
    t0 = time.perf_counter()
    assert grant().status_code == 200
    assert time.perf_counter() - t0 >= 0.3
    sandbox.admin.queue_fault("status", "token", status=429)
    response = grant()
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "1"
    assert sandbox.admin.stats()["requests"]["token"] == {"401": 1, "200": 1, "429": 1}
