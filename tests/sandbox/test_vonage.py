"""The Vonage-direct flavour at the root path: api_key/api_secret auth and Vonage's extra parameters."""

from __future__ import annotations

import pytest
import requests

from .conftest import METHOD_FAILED, SUCCESS, Api, Vonage

AUTH_FAILED = {"error-code": "401", "error-code-label": "authentication failed"}
MSG_FEATURES = (
    "Must be one of SMS | VOICE | SMS,VOICE | MMS | SMS,MMS | VOICE,MMS | SMS,MMS,VOICE "
    "(upper case, in this order)."
)


def test_basic_auth_query_and_form_credentials(sandbox):
    url = sandbox.vonage_url + "/account/numbers"
    key, secret = sandbox.client_id, sandbox.client_secret
    assert requests.get(url, auth=(key, secret), timeout=5).status_code == 200
    assert requests.get(url, params={"api_key": key, "api_secret": secret}, timeout=5).status_code == 200
    msisdn = Vonage(sandbox).get("/number/search", country="GB").json()["numbers"][0]["msisdn"]
    response = requests.post(
        sandbox.vonage_url + "/number/buy",
        data={"api_key": key, "api_secret": secret, "country": "GB", "msisdn": msisdn},
        timeout=5,
    )
    assert response.status_code == 200
    assert response.json() == SUCCESS
    assert sandbox.admin.stats()["unknown_fields"] == {}  # api_key/api_secret are known fields here


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"auth": ("sandbox-client", "wrong")},
        {"auth": ("nobody", "sandbox-secret")},
        {"params": {"api_key": "sandbox-client"}},
        {"headers": {"Authorization": "Basic !!!"}},
    ],
)
def test_bad_credentials_are_401_with_vonages_envelope(sandbox, kwargs):
    response = requests.get(sandbox.vonage_url + "/account/numbers", timeout=5, **kwargs)
    assert response.status_code == 401
    assert response.json() == AUTH_FAILED


def test_a_kpn_token_is_not_vonage_auth(sandbox, api):
    response = requests.get(sandbox.vonage_url + "/account/numbers", headers=api.headers, timeout=5)
    assert response.status_code == 401


def test_same_account_as_the_kpn_flavour(sandbox, api, vonage):
    msisdn = api.first_available("NL")["msisdn"]
    assert vonage.post("/number/buy", country="NL", msisdn=msisdn).json() == SUCCESS
    assert api.owned()["numbers"][0]["msisdn"] == msisdn
    assert vonage.post("/number/buy", country="NL", msisdn=msisdn).json() == METHOD_FAILED


def test_search_has_no_default_type_and_shows_mms(vonage):
    body = vonage.get("/number/search", country="US", size=100).json()
    assert body["count"] == 180  # every type
    assert {n["type"] for n in body["numbers"]} == {"landline", "landline-toll-free", "mobile-lvn"}
    mms = vonage.get("/number/search", country="US", features="SMS,MMS", size=100).json()
    assert mms["count"] > 0
    assert all({"SMS", "MMS"} <= set(n["features"]) for n in mms["numbers"])
    assert mms["numbers"][0]["features"][-1] == "MMS"


@pytest.mark.parametrize("features", ["MMS,SMS", "VOICE,SMS", "SMS,VOICE,MMS", "mms"])
def test_non_canonical_features_are_400_only_in_strict_mode(sandbox, vonage, features):
    """Vonage's SDK sends SMS,VOICE,MMS and its CLI the user's order: no evidence the API refuses them."""
    found = vonage.get("/number/search", country="US", features=features)
    assert found.status_code == 200
    wanted = {f.upper() for f in features.split(",")}
    assert all(wanted <= set(n["features"]) for n in found.json()["numbers"])
    sandbox.admin.configure(strict=True)
    response = vonage.get("/number/search", country="US", features=features)
    assert response.status_code == 400
    assert response.json() == {"features": MSG_FEATURES}


def test_app_id_and_list_filters(sandbox, vonage):
    sandbox.admin.seed_owned(3, country="GB", configured=False)
    sandbox.admin.seed_owned(2, country="DE", configured=False)
    first, second = "447400000000", "447400000001"
    app = "aaaaaaaa-bbbb-cccc-dddd-0123456789ab"
    assert vonage.post("/number/update", country="GB", msisdn=first, app_id=app).json() == SUCCESS
    assert vonage.post(
        "/number/update", country="GB", msisdn=second, app_id="other", messagesCallbackType="app",
        messagesCallbackValue=app,
    ).json() == SUCCESS  # fmt: skip

    def listed(**params):
        return [
            n["msisdn"] for n in vonage.get("/account/numbers", size=100, **params).json().get("numbers", [])
        ]

    assert len(listed()) == 5
    assert listed(country="DE") == ["4916000000000", "4916000000001"]
    assert listed(application_id=app) == [first]
    assert listed(has_application="true") == [first, second]
    assert len(listed(has_application="false")) == 3
    assert listed(has_application="true", country="DE") == []
    number = vonage.get("/account/numbers", pattern=second).json()["numbers"][0]
    assert number["app_id"] == "other"
    assert number["messagesCallbackType"] == "app"
    assert number["messagesCallbackValue"] == app
    # what Vonage's SDK sends (True) and a lower-case country: accepted, refused only in strict mode
    assert listed(has_application="True", country="de") == []
    assert listed(has_application="False", country="de") == ["4916000000000", "4916000000001"]
    sandbox.admin.configure(strict=True)
    response = vonage.get("/account/numbers", has_application="True", country="de")
    assert response.status_code == 400
    assert response.json() == {
        "has_application": "Must be true or false (lower case).",
        "country": "Must be a two-letter upper-case ISO 3166-1 alpha-2 country code.",
    }


def test_messages_callback_pairing(sandbox, vonage):
    sandbox.admin.seed_owned(1, configured=False)
    response = vonage.post("/number/update", country="GB", msisdn="447400000000", messagesCallbackValue="x")
    assert response.status_code == 400
    assert response.json() == {"messagesCallbackType": "Is required when messagesCallbackValue is set."}


def test_target_api_key_acts_on_a_sub_account(two_clients):
    alpha, beta = Vonage(two_clients, "alpha"), Api(two_clients, "beta")
    msisdn = alpha.get("/number/search", country="GB").json()["numbers"][0]["msisdn"]
    assert alpha.post("/number/buy", country="GB", msisdn=msisdn, target_api_key="beta").json() == SUCCESS
    assert [n["msisdn"] for n in beta.owned()["numbers"]] == [msisdn]
    assert alpha.get("/account/numbers").json() == {}
    assert alpha.post("/number/cancel", country="GB", msisdn=msisdn, target_api_key="beta").json() == SUCCESS
    response = alpha.post("/number/buy", country="GB", msisdn=msisdn, target_api_key="gamma")
    assert response.status_code == 401
    assert response.json() == AUTH_FAILED


def test_vonage_wrong_method_is_405(sandbox, vonage):
    response = vonage.session.get(sandbox.vonage_url + "/number/buy", auth=vonage.auth, timeout=5)
    assert response.status_code == 405
    assert response.json() == {"error-code": "405", "error-code-label": "method not allowed"}
