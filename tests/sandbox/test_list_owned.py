"""GET /account/numbers: 1-based pages, size limits, count = total matches, `{}` when empty, patterns."""

from __future__ import annotations

import time

import pytest

MSG_INDEX = "Must be an integer greater than or equal to 1 (index is a 1-based page number, not an offset)."
MSG_SIZE = "Must be an integer between 1 and 100."


def test_empty_account_answers_empty_object(api):
    response = api.get("/account/numbers")
    assert response.status_code == 200
    assert response.content == b"{}"


def test_seeded_numbers_are_configured_and_sorted(sandbox, api):
    sandbox.admin.seed_owned(25)
    body = api.owned()
    assert body["count"] == 25
    assert len(body["numbers"]) == 10  # default size
    msisdns = [n["msisdn"] for n in body["numbers"]]
    assert msisdns == sorted(msisdns)
    first = body["numbers"][0]
    assert first == {
        "country": "GB",
        "msisdn": "447400000000",
        "moHttpUrl": "https://hooks.example.com/nexmo/inbound",
        "type": "mobile-lvn",
        "features": ["VOICE", "SMS"],  # Vonage's response order, not the canonical request order
        "voiceCallbackType": "sip",
        "voiceCallbackValue": "sip:447400000000@sip.example.com",
        "voiceStatusCallback": "https://hooks.example.com/nexmo/status",
    }


def test_unconfigured_numbers_leave_empty_fields_out(sandbox, api):
    sandbox.admin.seed_owned(1, country="NL", configured=False)
    (number,) = api.owned()["numbers"]
    assert number == {
        "country": "NL",
        "msisdn": "3197900000000",
        "type": "mobile-lvn",
        "features": ["VOICE", "SMS"],
    }


def test_index_is_a_page_number_and_past_the_end_is_empty(sandbox, api):
    sandbox.admin.seed_owned(250)
    pages = [api.owned(size=100, index=i) for i in (1, 2, 3)]
    assert [p["count"] for p in pages] == [250, 250, 250]
    assert [len(p["numbers"]) for p in pages] == [100, 100, 50]
    all_numbers = [n["msisdn"] for p in pages for n in p["numbers"]]
    assert len(set(all_numbers)) == 250
    assert api.get("/account/numbers", size=100, index=4).content == b"{}"
    # an offset passed as index (a classic bug) lands far past the end
    assert api.get("/account/numbers", size=100, index=101).content == b"{}"


@pytest.mark.parametrize(
    ("params", "errors"),
    [
        ({"size": 101}, {"size": MSG_SIZE}),
        ({"size": 0}, {"size": MSG_SIZE}),
        ({"size": "ten"}, {"size": MSG_SIZE}),
        ({"index": 0}, {"index": MSG_INDEX}),
        ({"index": -1}, {"index": MSG_INDEX}),
        ({"index": "1.5"}, {"index": MSG_INDEX}),
        (
            {"search_pattern": 3},
            {"search_pattern": "Must be 0 (starts with), 1 (contains) or 2 (ends with)."},
        ),
        ({"pattern": "44+7"}, {"pattern": "Must contain only digits (at most 15)."}),
        ({"size": 101, "index": 0}, {"size": MSG_SIZE, "index": MSG_INDEX}),
    ],
)
def test_malformed_parameters_are_400_naming_the_field(sandbox, api, params, errors):
    response = api.get("/account/numbers", **params)
    assert response.status_code == 400
    assert response.json() == errors
    assert sandbox.admin.stats()["requests"]["GET /account/numbers"] == {"400": 1}


def test_blank_optional_parameters_count_as_absent(sandbox, api):
    sandbox.admin.seed_owned(3)
    assert api.owned(size="", index="", pattern="")["count"] == 3


@pytest.mark.parametrize(
    ("pattern", "mode", "expected"),
    [
        ("44740000012", 0, 10),  # starts with (includes the country code)
        ("44740000012", None, 10),  # search_pattern defaults to 0
        ("00012", 1, 11),  # contains: 447400000012 and 447400000120..129
        ("7", 2, 15),  # ends with
        ("999", 0, 0),
    ],
)
def test_pattern_matching(sandbox, api, pattern, mode, expected):
    sandbox.admin.seed_owned(150)
    params = {"pattern": pattern, "size": 100}
    if mode is not None:
        params["search_pattern"] = mode
    body = api.owned(**params)
    msisdns = [n["msisdn"] for n in body.get("numbers", [])]
    assert body.get("count", 0) == expected == len(msisdns)
    matches = {0: str.startswith, 1: str.__contains__, 2: str.endswith}[mode or 0]
    assert all(matches(m, pattern) for m in msisdns)
    if expected == 0:
        assert body == {}


def test_unknown_query_parameters_are_ignored_but_counted(sandbox, api):
    assert api.get("/account/numbers", page=2, country="GB").status_code == 200  # country is Vonage-only
    assert sandbox.admin.stats()["unknown_fields"] == {"page": 1, "country": 1}


def test_a_100000_number_account_starts_and_pages_fast(sandbox, api):
    t0 = time.perf_counter()
    sandbox.admin.reset(owned_numbers=100_000)
    reset_seconds = time.perf_counter() - t0
    assert reset_seconds < 1.5
    t0 = time.perf_counter()
    last = api.owned(size=100, index=1000)
    contains = api.owned(size=100, pattern="4321", search_pattern=1, index=1)
    page_seconds = time.perf_counter() - t0
    assert last["count"] == 100_000
    assert last["numbers"][-1]["msisdn"] == "447400099999"
    expected = sum("4321" in f"4474{i:08d}" for i in range(100_000))
    assert contains["count"] == expected
    assert all("4321" in n["msisdn"] for n in contains["numbers"])
    assert page_seconds < 1.0
    assert api.get("/account/numbers", size=100, index=1001).content == b"{}"


def test_owned_numbers_in_config_go_to_the_first_client(two_clients_server):
    from airflow_provider_nexmo_numbers.sandbox import run_sandbox

    with run_sandbox(two_clients_server.config, owned_numbers=5, owned_country="US") as sb:
        assert len(sb.admin.owned("alpha")) == 5
        assert sb.admin.owned("beta") == []
        assert {n["country"] for n in sb.admin.owned("alpha")} == {"US"}
