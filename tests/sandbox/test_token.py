"""The KPN (Apigee) token endpoint and bearer-token checks on API calls."""

from __future__ import annotations

import time

import pytest
import requests

from .conftest import Api, fetch_token

GRANT = {"grant_type": "client_credentials"}
INVALID_CLIENT = {"ErrorCode": "invalid_client", "Error": "Client credentials are invalid"}
FAULT_NO_TOKEN = {
    "fault": {"faultstring": "Invalid access token", "detail": {"errorcode": "oauth.v2.InvalidAccessToken"}}
}
FAULT_INVALID = {
    "fault": {
        "faultstring": "Invalid Access Token",
        "detail": {"errorcode": "keymanagement.service.invalid_access_token"},
    }
}
FAULT_EXPIRED = {
    "fault": {
        "faultstring": "Access Token expired",
        "detail": {"errorcode": "keymanagement.service.access_token_expired"},
    }
}


def token_request(sb, *, params=GRANT, **kwargs) -> requests.Response:
    return requests.post(sb.token_url, params=params, timeout=5, **kwargs)


def test_token_is_apigee_style_with_every_value_a_string(sandbox):
    before = int(time.time() * 1000)
    response = token_request(
        sandbox, data={"client_id": sandbox.client_id, "client_secret": sandbox.client_secret}
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == "3599"
    assert body["status"] == "approved"
    assert body["client_id"] == sandbox.client_id
    assert body["scope"] == ""
    assert body["refresh_token_expires_in"] == "0"
    assert body["refresh_count"] == "0"
    assert before - 1000 <= int(body["issued_at"]) <= int(time.time() * 1000) + 1000  # epoch milliseconds
    assert len(body["access_token"]) == 28
    assert body["access_token"].isalnum()
    assert body["api_product_list_json"] == ["Phone Numbers - Vonage"]
    for key, value in body.items():
        if key != "api_product_list_json":
            assert isinstance(value, str), key
    stats = sandbox.admin.stats()
    assert stats["tokens_issued"] == 1
    assert stats["token_requests"] == 1
    assert stats["requests"]["token"] == {"200": 1}


def test_each_request_gets_a_new_token(sandbox):
    assert fetch_token(sandbox) != fetch_token(sandbox)


def test_basic_auth_header_and_grant_type_in_body_are_accepted(sandbox):
    response = token_request(
        sandbox,
        params={},
        data={"grant_type": "client_credentials"},
        auth=(sandbox.client_id, sandbox.client_secret),
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"client_id": "sandbox-client", "client_secret": "wrong"}, INVALID_CLIENT),
        ({"client_id": "nobody", "client_secret": "sandbox-secret"}, INVALID_CLIENT),
        (
            {"client_secret": "sandbox-secret"},
            {"ErrorCode": "invalid_client", "Error": "ClientId is Invalid"},
        ),
        ({}, {"ErrorCode": "invalid_client", "Error": "ClientId is Invalid"}),
    ],
)
def test_bad_credentials_are_401(sandbox, data, expected):
    response = token_request(sandbox, data=data)
    assert response.status_code == 401
    assert response.json() == expected
    assert sandbox.admin.stats()["tokens_issued"] == 0


def test_wrong_grant_type_is_400(sandbox):
    creds = {"client_id": sandbox.client_id, "client_secret": sandbox.client_secret}
    response = token_request(sandbox, params={"grant_type": "password"}, data=creds)
    assert response.status_code == 400
    assert response.json() == {"ErrorCode": "invalid_request", "Error": "Unsupported grant type : password"}
    response = token_request(sandbox, params={}, data=creds)
    assert response.status_code == 400
    assert response.json() == {"ErrorCode": "invalid_request", "Error": "Required param : grant_type"}


def test_json_body_is_400(sandbox):
    response = token_request(
        sandbox, json={"client_id": sandbox.client_id, "client_secret": sandbox.client_secret}
    )
    assert response.status_code == 400
    body = response.json()
    assert body["ErrorCode"] == "invalid_request"
    assert "application/json" in body["Error"]
    assert "x-www-form-urlencoded" in body["Error"]


def test_get_on_token_endpoint_is_405(sandbox):
    response = requests.get(sandbox.token_url, params=GRANT, timeout=5)
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert sandbox.admin.stats()["requests"]["token"] == {"405": 1}


def test_missing_or_malformed_authorization_is_401(sandbox):
    url = sandbox.base_url + "/account/numbers"
    for headers in ({}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer"}):
        response = requests.get(url, headers=headers, timeout=5)
        assert response.status_code == 401
        assert response.json() == FAULT_NO_TOKEN


def test_unknown_token_is_401(sandbox):
    response = requests.get(
        sandbox.base_url + "/account/numbers", headers={"Authorization": "Bearer nope"}, timeout=5
    )
    assert response.status_code == 401
    assert response.json() == FAULT_INVALID
    assert sandbox.admin.stats()["requests"]["GET /account/numbers"] == {"401": 1}


def test_revoked_token_is_401_and_a_new_one_works(sandbox, api):
    assert api.get("/account/numbers").status_code == 200
    assert sandbox.admin.revoke_tokens() == 1
    response = api.get("/account/numbers")
    assert response.status_code == 401
    assert response.json() == FAULT_INVALID
    api._token = None
    assert api.get("/account/numbers").status_code == 200


def test_expired_token_is_401_with_the_expired_fault(sandbox, api):
    sandbox.admin.configure(token_ttl=1)
    assert api.token  # issued with a 1 s lifetime
    time.sleep(1.05)
    response = api.get("/account/numbers")
    assert response.status_code == 401
    assert response.json() == FAULT_EXPIRED


def test_token_ttl_is_configurable(sandbox):
    sandbox.admin.configure(token_ttl=120)
    body = token_request(
        sandbox, data={"client_id": sandbox.client_id, "client_secret": sandbox.client_secret}
    ).json()
    assert body["expires_in"] == "120"


def test_reset_drops_tokens(sandbox, api):
    assert api.get("/account/numbers").status_code == 200
    sandbox.admin.reset()
    assert api.get("/account/numbers").status_code == 401


def test_admin_lists_every_token_issued_since_reset_revoked_ones_included(sandbox):
    assert sandbox.admin.tokens() == []
    before = time.time()
    first, second = fetch_token(sandbox), fetch_token(sandbox)
    sandbox.admin.queue_fault("revoke_token", operation="GET /account/numbers")
    answer = requests.get(
        sandbox.base_url + "/account/numbers", headers={"Authorization": f"Bearer {second}"}, timeout=5
    )
    assert answer.status_code == 401  # the fault revoked every token of the client
    third = fetch_token(sandbox)

    tokens = sandbox.admin.tokens()

    assert [t["access_token"] for t in tokens] == [first, second, third]
    assert [t["revoked"] for t in tokens] == [True, True, False]
    assert {t["client_id"] for t in tokens} == {sandbox.client_id}
    for token in tokens:
        assert before - 1 <= token["issued_at"] <= time.time()
        assert token["expires_at"] == pytest.approx(token["issued_at"] + 3599)
    assert sandbox.admin.stats()["tokens_issued"] == len(tokens)
    sandbox.admin.reset()
    assert sandbox.admin.tokens() == []


def test_admin_token_list_marks_only_the_revoked_clients_tokens(two_clients):
    alpha, beta = fetch_token(two_clients, "alpha"), fetch_token(two_clients, "beta")
    assert two_clients.admin.revoke_tokens(client_id="alpha") == 1
    listed = {t["access_token"]: (t["client_id"], t["revoked"]) for t in two_clients.admin.tokens()}
    assert listed == {alpha: ("alpha", True), beta: ("beta", False)}


def test_several_clients_have_their_own_accounts_and_tokens(two_clients):
    alpha, beta = Api(two_clients, "alpha"), Api(two_clients, "beta")
    number = alpha.first_available("GB")
    assert alpha.buy("GB", number["msisdn"]).status_code == 200
    assert [n["msisdn"] for n in alpha.owned()["numbers"]] == [number["msisdn"]]
    assert beta.owned() == {}
    assert two_clients.admin.owned("alpha")[0]["msisdn"] == number["msisdn"]
    assert two_clients.admin.owned("beta") == []
    # revoking alpha's tokens leaves beta's alone
    two_clients.admin.revoke_tokens("alpha")
    assert alpha.get("/account/numbers").status_code == 401
    assert beta.get("/account/numbers").status_code == 200
