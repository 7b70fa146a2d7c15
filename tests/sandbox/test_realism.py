"""Realism the sandbox used to lack (issue 13): what the real API does that a kind sandbox hid.

Each behaviour is an option or a fault, so a test asks for it; docs/sandbox.md says where it comes from.
"""

from __future__ import annotations

import time

from .conftest import METHOD_FAILED, SUCCESS


def test_webhook_check_cannot_reach_loopback_unless_allowed(sandbox, api):
    """Vonage checks moHttpUrl from its own network: 127.0.0.1 can never answer it."""
    sandbox.admin.seed_owned(1, configured=False)
    hook = sandbox.admin.webhook_url("realism", ready_after=0)
    sandbox.admin.configure(webhook_allow_loopback=False)
    refused = api.post("/number/update", country="GB", msisdn="447400000000", moHttpUrl=hook)
    assert refused.status_code == 420
    assert refused.json() == METHOD_FAILED
    assert "not reachable from the API's network" in refused.headers["x-sandbox-reason"]
    assert sandbox.admin.webhooks()[-1]["hits"] == {}  # the check never went out
    sandbox.admin.configure(webhook_allow_loopback=True)
    assert api.post("/number/update", country="GB", msisdn="447400000000", moHttpUrl=hook).json() == SUCCESS


def test_deprecated_voice_type_app_is_a_500(sandbox, api, vonage):
    sandbox.admin.seed_owned(1, configured=False)
    for flavour in (api, vonage):
        response = flavour.post(
            "/number/update",
            country="GB",
            msisdn="447400000000",
            voiceCallbackType="app",
            voiceCallbackValue="a",
        )
        assert response.status_code == 500
    assert sandbox.admin.stats()["updates"] == {}


def test_number_taken_by_another_account_between_search_and_buy(sandbox, api):
    number = api.first_available("GB")
    sandbox.admin.queue_fault("taken", operation="POST /number/buy")
    response = api.buy("GB", number["msisdn"])
    assert response.status_code == 420
    assert response.json() == METHOD_FAILED
    assert number["msisdn"] not in [n["msisdn"] for n in sandbox.admin.pool("GB")]
    assert sandbox.admin.owned() == []


def test_no_credit_is_a_420_and_the_balance_is_reported(sandbox, api, vonage):
    assert vonage.get("/account/get-balance").json() == {"value": 100.0, "autoReload": True}
    offers = sorted(api.search("GB", size=100)["numbers"], key=lambda n: float(n["cost"]))
    cheap, dear = offers[0], offers[-1]
    price = float(cheap["cost"]) + float(cheap.get("initialPrice") or 0)
    sandbox.admin.set_balance(price + 0.001)
    assert api.buy("GB", cheap["msisdn"]).status_code == 200
    balance = vonage.get("/account/get-balance").json()
    assert balance["autoReload"] is False
    assert abs(balance["value"] - 0.001) < 1e-9
    refused = api.buy("GB", dear["msisdn"])
    assert refused.status_code == 420
    assert refused.json() == METHOD_FAILED
    assert "no credit" in refused.headers["x-sandbox-reason"]
    assert api.get("/account/get-balance").status_code == 404  # the Account API is Vonage direct's


def test_read_after_write_lag(sandbox, api):
    sandbox.admin.seed_owned(1, configured=False)
    sandbox.admin.configure(read_lag=0.5)
    written = time.monotonic()
    update = api.post(
        "/number/update", country="GB", msisdn="447400000000", voiceStatusCallback="https://e.com/s"
    )
    assert update.json() == SUCCESS
    first = api.owned()["numbers"][0]
    if time.monotonic() - written < 0.4:  # read inside the lag window (not asserted on a slow machine)
        assert "voiceStatusCallback" not in first
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if api.owned()["numbers"][0].get("voiceStatusCallback") == "https://e.com/s":
            break
        time.sleep(0.1)
    else:
        raise AssertionError("the update never became visible")
