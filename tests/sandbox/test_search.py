"""GET /number/search: the deterministic seeded pool, filters, limits and validation."""

from __future__ import annotations

import re

import pytest

from airflow_provider_nexmo_numbers.sandbox import run_sandbox

MSG_COUNTRY = "Must be a two-letter upper-case ISO 3166-1 alpha-2 country code."
MSG_FEATURES_ANY = "Must be a comma-separated list of SMS, VOICE, MMS."
TYPES = ("landline", "landline-toll-free", "mobile-lvn")


def test_result_shape_with_string_costs(api):
    body = api.search("GB", size=5)
    assert body["count"] == 60  # the KPN default type (landline) only
    assert len(body["numbers"]) == 5
    for number in body["numbers"]:
        assert set(number) == {"country", "msisdn", "type", "cost", "features"}
        assert number["country"] == "GB"
        assert number["type"] == "landline"
        assert re.fullmatch(r"\d+\.\d{2}", number["cost"])
        assert re.fullmatch(r"[1-9]\d{6,14}", number["msisdn"])


def test_kpn_defaults_to_landline_but_every_type_exists(api):
    for country in ("GB", "NL", "US", "DE", "FR"):
        for number_type in TYPES:
            body = api.search(country, type=number_type, size=100)
            assert body["count"] == 60, (country, number_type)
            assert {n["type"] for n in body["numbers"]} == {number_type}
    assert {n["type"] for n in api.search("NL", size=100)["numbers"]} == {"landline"}


def test_costs_vary_and_feature_combinations_exist(api):
    numbers = [n for t in TYPES for n in api.search("GB", type=t, size=100)["numbers"]]
    assert len({n["cost"] for n in numbers}) > 20
    assert {tuple(n["features"]) for n in numbers} >= {("VOICE",), ("SMS",), ("VOICE", "SMS")}


def test_dutch_m2m_numbers_are_13_digits(api):
    numbers = api.search("NL", type="mobile-lvn", pattern="3197", size=100)["numbers"]
    assert numbers
    assert all(len(n["msisdn"]) == 13 for n in numbers)
    assert all(n["initialPrice"] == "2.00" for n in numbers)  # NL and DE carry a set-up price


def test_features_filter_is_a_subset_match(api):
    body = api.search("GB", type="mobile-lvn", features="SMS,VOICE", size=100)
    assert body["count"] > 0
    assert all(set(n["features"]) == {"SMS", "VOICE"} for n in body["numbers"])
    sms = api.search("GB", type="mobile-lvn", features="SMS", size=100)
    assert sms["count"] > body["count"]
    assert all("SMS" in n["features"] for n in sms["numbers"])


def test_kpn_shows_mms_as_vonage_does(api, vonage):
    """Nothing says KPN's gateway rewrites the API's answers: the same numbers, the same features."""
    kpn = api.search("US", type="mobile-lvn", size=100)["numbers"]
    assert any("MMS" in n["features"] for n in kpn)
    direct = vonage.get("/number/search", country="US", type="mobile-lvn", size=100).json()["numbers"]
    assert kpn == direct


def test_pattern_and_paging(api):
    everything = api.search("US", type="landline", size=100)
    assert everything["count"] == 60
    first, second = (
        api.search("US", type="landline", size=25),
        api.search("US", type="landline", size=25, index=2),
    )
    assert [n["msisdn"] for n in first["numbers"] + second["numbers"]] == [
        n["msisdn"] for n in everything["numbers"][:50]
    ]
    assert api.get("/number/search", country="US", type="landline", size=25, index=4).content == b"{}"
    pattern = api.search("US", type="landline", pattern="1212")
    assert pattern["count"] == 20
    assert all(n["msisdn"].startswith("1212") for n in pattern["numbers"])
    last_digit = api.search("US", type="landline", pattern="5", search_pattern=2, size=100)
    assert all(n["msisdn"].endswith("5") for n in last_digit["numbers"])


def test_country_without_numbers_is_empty(api):
    assert api.get("/number/search", country="JP").content == b"{}"


@pytest.mark.parametrize(
    ("params", "errors"),
    [
        ({}, {"country": "Is required."}),
        ({"country": "gb1"}, {"country": MSG_COUNTRY}),
        ({"country": "GBR"}, {"country": MSG_COUNTRY}),
        (
            {"country": "GB", "type": "mobile"},
            {"type": "Must be one of landline, landline-toll-free, mobile-lvn."},
        ),
        ({"country": "GB", "features": "FAX"}, {"features": MSG_FEATURES_ANY}),
        ({"country": "GB", "features": "SMS,,VOICE"}, {"features": MSG_FEATURES_ANY}),
        ({"country": "GB", "size": 101}, {"size": "Must be an integer between 1 and 100."}),
        (
            {"type": "fax", "size": 0},
            {
                "country": "Is required.",
                "type": "Must be one of landline, landline-toll-free, mobile-lvn.",
                "size": "Must be an integer between 1 and 100.",
            },
        ),
    ],
)
def test_malformed_parameters_are_400_naming_the_field(api, params, errors):
    response = api.get("/number/search", **params)
    assert response.status_code == 400
    assert response.json() == errors
    assert response.headers["x-sandbox-reason"].startswith("invalid parameters")


@pytest.mark.parametrize(
    "params",
    [
        {"country": "gb"},
        {"country": "GB", "features": "VOICE,SMS"},
        {"country": "GB", "features": "sms"},
        {"country": "GB", "features": "MMS"},
        {"country": "GB", "features": "SMS, VOICE"},
    ],
)
def test_beyond_evidence_strictness_is_opt_in(sandbox, api, params):
    """No evidence that the API refuses these (Vonage's SDK and CLI send them): accepted by default, 400 in
    the opt-in strict mode."""
    assert api.get("/number/search", **params).status_code == 200
    sandbox.admin.configure(strict=True)
    response = api.get("/number/search", **params)
    assert response.status_code == 400
    field = next(iter(response.json()))
    assert field in params
    assert field != "country" or params["country"] == "gb"


def test_pool_is_deterministic_per_seed(sandbox):
    first = sandbox.admin.pool("DE")
    assert len(first) == 180
    sandbox.admin.reset()
    assert sandbox.admin.pool("DE") == first
    sandbox.admin.reset(seed=8)
    assert sandbox.admin.pool("DE") != first
    with run_sandbox(seed=7) as other:  # a second server with the same seed offers the same numbers
        sandbox.admin.reset()
        assert other.admin.pool() == sandbox.admin.pool()
