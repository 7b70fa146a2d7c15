"""The gateway quota: per client id, 429 with Retry-After and the quota-* headers, nothing processed."""

from __future__ import annotations

import time

from .conftest import Api


def burst(api: Api, n: int = 8):
    return [api.get("/account/numbers") for _ in range(n)]


def test_over_quota_is_429_with_headers(sandbox, api):
    api.token  # noqa: B018 - fetch the token first: the token endpoint has no quota
    sandbox.admin.set_quota(2)
    responses = burst(api)
    ok = [r for r in responses if r.status_code == 200]
    throttled = [r for r in responses if r.status_code == 429]
    assert len(ok) + len(throttled) == len(responses)
    assert throttled
    assert len(ok) <= 4  # at most two windows of 2 in a burst this short
    for response in ok:
        assert response.headers["quota-limit"] == "2"
        assert int(response.headers["quota-used"]) <= 2
    response = throttled[0]
    assert response.json() == {
        "fault": {
            "faultstring": "Rate limit quota violation. Quota limit exceeded. Identifier : sandbox-client",
            "detail": {"errorcode": "policies.ratelimit.QuotaViolation"},
        }
    }
    headers = response.headers
    assert headers["Retry-After"] == "1"
    assert headers["quota-limit"] == "2"
    assert headers["quota-interval"] == "1"
    assert headers["quota-time-unit"] == "second"
    assert int(headers["quota-used"]) > 2
    reset_ms = int(headers["quota-reset-UTC"])
    now_ms = time.time() * 1000
    assert now_ms - 50 <= reset_ms <= now_ms + 1050
    time.sleep(max(0.0, reset_ms / 1000 - time.time()) + 0.01)
    assert api.get("/account/numbers").status_code == 200
    assert sandbox.admin.stats()["requests"]["GET /account/numbers"]["429"] == len(throttled)


def test_throttled_writes_are_not_processed(sandbox, api):
    numbers = [n["msisdn"] for n in api.search("GB", size=6)["numbers"]]
    api.token  # noqa: B018
    sandbox.admin.set_quota(1)
    statuses = [api.buy("GB", msisdn).status_code for msisdn in numbers]
    assert 429 in statuses
    bought = {m for m, s in zip(numbers, statuses, strict=True) if s == 200}
    assert set(sandbox.admin.stats()["purchases"]) == bought
    assert {n["msisdn"] for n in sandbox.admin.owned()} == bought


def test_quota_is_per_client_id(two_clients):
    alpha, beta = Api(two_clients, "alpha"), Api(two_clients, "beta")
    alpha.token, beta.token  # noqa: B018
    two_clients.admin.set_quota(1)
    assert 429 in [r.status_code for r in burst(alpha, 3)]
    assert beta.get("/account/numbers").status_code == 200


def test_fractional_rate_and_reset_turns_quota_off(sandbox, api):
    api.token  # noqa: B018
    assert sandbox.admin.set_quota(0.5) == {"rps": 0.5, "limit": 1, "interval": 2.0}
    throttled = [r for r in burst(api, 3) if r.status_code == 429]
    assert throttled
    assert throttled[0].headers["quota-interval"] == "2"
    sandbox.admin.reset()
    api._token = None
    assert all(r.status_code == 200 for r in burst(api, 5))
    assert "quota-limit" not in api.get("/account/numbers").headers


def test_vonage_flavour_is_throttled_per_api_key_with_its_own_body(sandbox):
    from .conftest import Vonage

    vonage = Vonage(sandbox)
    sandbox.admin.set_quota(1)
    throttled = [r for r in (vonage.get("/account/numbers") for _ in range(3)) if r.status_code == 429]
    assert throttled
    assert throttled[0].json() == {"error-code": "429", "error-code-label": "too many requests"}
    # quota-* headers are KPN's gateway (Apigee); nothing says Vonage direct sends them or Retry-After
    assert not [name for name in throttled[0].headers if name.lower().startswith("quota-")]
    assert "Retry-After" not in throttled[0].headers
    answered = vonage.get("/account/numbers")
    assert not [name for name in answered.headers if name.lower().startswith("quota-")]
