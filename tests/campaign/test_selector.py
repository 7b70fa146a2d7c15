"""NumberSelector: validation names the field, matching is pure and follows the documented rules."""

from __future__ import annotations

import pytest

from airflow_provider_nexmo_numbers.campaigns.selector import NumberSelector, is_unconfigured
from airflow_provider_nexmo_numbers.client.errors import NexmoValidationError


def owned(msisdn="447700900001", **kw):
    base = {"country": "GB", "msisdn": msisdn, "type": "mobile-lvn", "features": ["SMS", "VOICE"]}
    return {**base, **kw}


def test_parse_normalises_values():
    sel = NumberSelector.parse(
        {
            "country": "gb",
            "type": "MOBILE_LVN",
            "features": ["voice", "sms"],
            "pattern": "+4477",
            "search_pattern": "starts_with",
        }
    )
    assert (sel.country, sel.type, sel.features, sel.pattern, sel.search_pattern) == (
        "GB",
        "mobile-lvn",
        "SMS,VOICE",
        "4477",
        0,
    )
    assert sel.to_dict()["features"] == ["SMS", "VOICE"]
    assert sel.to_dict()["search_pattern"] == "starts_with"


@pytest.mark.parametrize(
    ("value", "field"),
    [
        ({"country": "XX"}, "selector.country"),
        ({"type": "cell"}, "selector.type"),
        ({"features": ["FAX"]}, "selector.features"),
        ({"pattern": "44ab"}, "selector.pattern"),
        ({"pattern": "44", "search_pattern": 7}, "selector.search_pattern"),
        ({"search_pattern": 1}, "selector.search_pattern"),
        ({"mo_http_url": "example.com/hook"}, "selector.mo_http_url"),
        ({"voice_callback_type": "pigeon"}, "selector.voice_callback_type"),
        ({"moHttpUrl": "https://x.example/h"}, "selector.moHttpUrl"),
        ("GB", "selector"),
    ],
)
def test_bad_selector_names_field(value, field):
    with pytest.raises(NexmoValidationError) as info:
        NumberSelector.parse(value)
    assert info.value.field == field
    assert field in str(info.value)


def test_identity_matching():
    sel = NumberSelector.parse({"country": "GB", "type": "mobile-lvn", "features": "SMS"})
    assert sel.matches_identity(owned())  # has at least SMS
    assert not sel.matches_identity(owned(country="NL"))
    assert not sel.matches_identity(owned(type="landline"))
    assert not sel.matches_identity(owned(features=["VOICE"]))


@pytest.mark.parametrize(
    ("mode", "pattern", "expected"),
    [(0, "4477", True), (0, "7700", False), (1, "7700", True), (2, "0001", True), (2, "4477", False)],
)
def test_pattern_modes(mode, pattern, expected):
    sel = NumberSelector.parse({"pattern": pattern, "search_pattern": mode})
    assert sel.matches(owned()) is expected


def test_marker_matching_and_empty_means_unset():
    sel = NumberSelector.parse({"country": "GB", "mo_http_url": "https://hooks.example/a"})
    assert sel.matches(owned(mo_http_url="https://hooks.example/a"))
    assert not sel.matches(owned(mo_http_url="https://hooks.example/b"))
    assert not sel.matches(owned())
    assert sel.matches_identity(owned())
    unset = NumberSelector.parse({"mo_http_url": ""})
    assert unset.matches(owned(mo_http_url=None))
    assert not unset.matches(owned(mo_http_url="https://hooks.example/a"))


def test_voice_type_marker_is_case_insensitive():
    sel = NumberSelector.parse({"voice_callback_type": "SIP"})
    assert sel.voice_callback_type == "sip"
    assert sel.matches(owned(voice_callback_type="sip", voice_callback_value="sip:a@b.example"))


def test_empty_and_unconfigured():
    assert NumberSelector.parse(None).is_empty
    assert NumberSelector.parse({}).is_empty
    assert not NumberSelector.parse({"country": "GB"}).is_empty
    assert is_unconfigured(owned())
    assert is_unconfigured(owned(mo_http_url="", voice_callback_type=None))
    assert not is_unconfigured(owned(voice_status_callback="https://s.example/x"))
