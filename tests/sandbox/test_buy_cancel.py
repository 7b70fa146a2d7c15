"""POST /number/buy and /number/cancel: pool <-> account moves, 420s, form-only bodies, 405, stats."""

from __future__ import annotations

import pytest

from .conftest import METHOD_FAILED, SUCCESS, Api

ADDRESS_LABEL = (
    "Numbers from this country can be requested from the Dashboard (https://dashboard.nexmo.com/buy-numbers) "
    "as they require a valid local address to be provided before being purchased."
)
MSG_MSISDN = "Must be an E.164 number without '+': 7 to 15 digits, not starting with 0."


def test_buy_moves_the_number_from_pool_to_account(sandbox, api):
    before = api.search("GB", type="mobile-lvn")
    number = before["numbers"][0]
    response = api.buy("GB", number["msisdn"])
    assert response.status_code == 200
    assert response.json() == SUCCESS
    after = api.search("GB", type="mobile-lvn")
    assert after["count"] == before["count"] - 1
    assert number["msisdn"] not in [n["msisdn"] for n in after["numbers"]]
    owned = api.owned()
    assert owned["count"] == 1
    assert owned["numbers"][0] == {
        "country": "GB",
        "msisdn": number["msisdn"],
        "type": "mobile-lvn",
        "features": number["features"],
    }
    stats = sandbox.admin.stats()
    assert stats["purchases"] == {number["msisdn"]: 1}
    assert stats["writes"] == 1
    assert stats["requests"]["POST /number/buy"] == {"200": 1}


def test_buying_an_owned_number_again_is_420(sandbox, api):
    msisdn = api.first_available("NL")["msisdn"]
    assert api.buy("NL", msisdn).status_code == 200
    response = api.buy("NL", msisdn)
    assert response.status_code == 420
    assert response.json() == METHOD_FAILED
    assert response.headers["x-sandbox-reason"] == "number already owned by this account"
    assert sandbox.admin.stats()["purchases"] == {msisdn: 1}


def test_buying_an_unavailable_number_is_420(api):
    response = api.buy("GB", "447000000001")
    assert response.status_code == 420
    assert response.json() == METHOD_FAILED
    assert response.headers["x-sandbox-reason"] == "number is not available"


def test_buying_with_the_wrong_country_is_420(api):
    msisdn = api.first_available("DE")["msisdn"]
    response = api.buy("NL", msisdn)
    assert response.status_code == 420
    assert response.json() == METHOD_FAILED


def test_a_number_another_client_bought_is_unavailable(two_clients):
    alpha, beta = Api(two_clients, "alpha"), Api(two_clients, "beta")
    msisdn = alpha.first_available("US")["msisdn"]
    assert alpha.buy("US", msisdn).status_code == 200
    response = beta.buy("US", msisdn)
    assert response.status_code == 420
    assert response.json() == METHOD_FAILED
    assert beta.post("/number/cancel", country="US", msisdn=msisdn).status_code == 420
    assert two_clients.admin.stats()["purchases"] == {msisdn: 1}


def test_address_required_country_is_420_with_vonages_label(sandbox, api):
    msisdn = api.first_available("FR")["msisdn"]
    response = api.buy("FR", msisdn)
    assert response.status_code == 420
    assert response.json() == {"error-code": "420", "error-code-label": ADDRESS_LABEL}
    assert sandbox.admin.stats()["purchases"] == {}


def test_cancel_returns_the_number_to_the_pool_unchanged(sandbox, api):
    number = api.first_available("DE", type="landline-toll-free")
    assert api.buy("DE", number["msisdn"]).status_code == 200
    response = api.post("/number/cancel", country="DE", msisdn=number["msisdn"])
    assert response.status_code == 200
    assert response.json() == SUCCESS
    assert api.get("/account/numbers").content == b"{}"
    assert api.first_available("DE", type="landline-toll-free") == number
    stats = sandbox.admin.stats()
    assert stats["cancellations"] == {number["msisdn"]: 1}
    assert stats["writes"] == 2


def test_cancelling_a_number_you_do_not_own_is_420(api):
    msisdn = api.first_available("GB")["msisdn"]
    response = api.post("/number/cancel", country="GB", msisdn=msisdn)
    assert response.status_code == 420
    assert response.json() == METHOD_FAILED
    assert response.headers["x-sandbox-reason"] == "number is not owned by this account"


def test_cancelled_bulk_number_joins_the_pool_and_can_be_bought_back(sandbox, api):
    sandbox.admin.seed_owned(2, country="US")
    msisdn = api.owned()["numbers"][0]["msisdn"]
    assert api.post("/number/cancel", country="US", msisdn=msisdn).status_code == 200
    found = api.search("US", type="mobile-lvn", pattern=msisdn)["numbers"]
    assert [n["msisdn"] for n in found] == [msisdn]
    assert api.buy("US", msisdn).status_code == 200
    assert api.owned()["count"] == 2


@pytest.mark.parametrize("path", ["/number/buy", "/number/cancel"])
@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({}, {"country": "Is required.", "msisdn": "Is required."}),
        ({"country": "GB"}, {"msisdn": "Is required."}),
        ({"country": "GB", "msisdn": "+447700900001"}, {"msisdn": MSG_MSISDN}),
        ({"country": "GB", "msisdn": "07700900001"}, {"msisdn": MSG_MSISDN}),
        ({"country": "GB", "msisdn": "44770"}, {"msisdn": MSG_MSISDN}),
        ({"country": "GB", "msisdn": "4477009000011234"}, {"msisdn": MSG_MSISDN}),
        (
            {"country": "GBR", "msisdn": "447700900001"},
            {"country": "Must be a two-letter upper-case ISO 3166-1 alpha-2 country code."},
        ),
    ],
)
def test_malformed_fields_are_400(api, path, data, errors):
    response = api.post(path, **data)
    assert response.status_code == 400
    assert response.json() == errors


@pytest.mark.parametrize("path", ["/number/buy", "/number/cancel", "/number/update"])
def test_json_body_is_the_apis_400_country_is_required(sandbox, api, path):
    """The real API reads only form bodies: JSON gets 400 {"country": "Is required."} (vonage-ruby-sdk #95),
    not the 415 this sandbox used to invent."""
    number = api.first_available("GB")
    response = api.session.post(
        sandbox.base_url + path,
        json={"country": "GB", "msisdn": number["msisdn"]},
        headers=api.headers,
        timeout=5,
    )
    assert response.status_code == 400
    assert response.json() == {"country": "Is required."}
    assert sandbox.admin.stats()["purchases"] == {}


def test_lower_case_country_is_accepted_unless_strict(sandbox, api):
    number = api.first_available("GB")
    sandbox.admin.configure(strict=True)
    refused = api.buy("gb", number["msisdn"])
    assert refused.status_code == 400
    assert "country" in refused.json()
    sandbox.admin.configure(strict=False)
    assert api.buy("gb", number["msisdn"]).status_code == 200


def test_params_in_the_query_string_of_a_post_are_not_read(api, sandbox):
    number = api.first_available("GB")
    response = api.session.post(
        sandbox.base_url + "/number/buy",
        params={"country": "GB", "msisdn": number["msisdn"]},
        headers=api.headers,
    )
    assert response.status_code == 400
    assert response.json() == {"country": "Is required.", "msisdn": "Is required."}


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("GET", "/number/buy", "POST"),
        ("PUT", "/number/cancel", "POST"),
        ("DELETE", "/number/update", "POST"),
        ("POST", "/account/numbers", "GET"),
        ("POST", "/number/search", "GET"),
    ],
)
def test_wrong_method_is_405(sandbox, api, method, path, allow):
    response = api.session.request(method, sandbox.base_url + path, headers=api.headers, timeout=5)
    assert response.status_code == 405
    assert response.json() == {"error-code": "405", "error-code-label": "method not allowed"}
    assert response.headers["allow"] == allow
    assert sandbox.admin.stats()["requests"] == {"token": {"200": 1}, f"{method} {path}": {"405": 1}}


def test_unknown_path_is_404(sandbox, api):
    response = api.get("/number/lookup")
    assert response.status_code == 404
    assert response.json() == {"error-code": "404", "error-code-label": "not found"}


def test_unknown_form_fields_are_ignored_but_counted(sandbox, api):
    msisdn = api.first_available("GB")["msisdn"]
    assert api.post("/number/buy", country="GB", msisdn=msisdn, target_api_key="x").status_code == 200
    assert sandbox.admin.stats()["unknown_fields"] == {"target_api_key": 1}  # a Vonage-only field on KPN
