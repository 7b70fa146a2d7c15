"""Validation before the wire: every rule, the normalised output, and errors naming field and rule."""

from __future__ import annotations

import pickle

import pytest

from airflow_provider_nexmo_numbers.client import NexmoValidationError, SearchPattern
from airflow_provider_nexmo_numbers.client import validation as v


def _error(fn, *args, **kwargs) -> NexmoValidationError:
    with pytest.raises(NexmoValidationError) as info:
        fn(*args, **kwargs)
    return info.value


class TestCountry:
    @pytest.mark.parametrize(
        ("value", "expected"), [("nl", "NL"), ("GB", "GB"), (" de ", "DE"), ("Us", "US")]
    )
    def test_case_insensitive_in_upper_out(self, value, expected):
        assert v.validate_country(value) == expected

    @pytest.mark.parametrize("value", ["XX", "UK", "EU", "XK", "AC", "NLD", "N", "", 31, None, "1A", "AQ"])
    def test_rejects_non_iso_codes(self, value):
        error = _error(v.validate_country, value)
        assert error.field == "country"
        assert "ISO 3166-1 alpha-2" in error.rule
        assert "country" in str(error)
        assert error.rule in str(error)

    def test_the_list_comes_from_the_numbering_metadata(self):
        """Before: a hand-kept list of 249 codes, including places without any phone number (AQ, BV)."""
        import phonenumbers

        codes = v.country_codes()
        assert codes == frozenset(phonenumbers.SUPPORTED_REGIONS) - {"AC", "TA", "XK"}
        assert {"NL", "GB", "US", "DE", "FR", "AX", "SS", "BQ", "CW", "SX"} <= codes
        assert not {"UK", "EU", "XK", "AN", "YU", "AQ", "BV"} & codes
        assert codes == v.ISO_3166_ALPHA2  # the former constant's name still works


class TestMsisdnCountry:
    @pytest.mark.parametrize(
        ("msisdn", "country"),
        [("447700900000", "GB"), ("31612345678", "NL"), ("3197012345678", "NL"), ("12025550123", "US"),
         ("14165550123", "CA"), ("4915112345678", "DE"), ("33612345678", "FR"), ("447700900000", "JE")],
    )  # fmt: skip
    def test_accepts_a_number_of_the_country(self, msisdn, country):
        assert v.validate_msisdn_country(msisdn, country) == msisdn

    @pytest.mark.parametrize(
        ("msisdn", "country", "expected"),
        [("447700900000", "NL", "+31"), ("31612345678", "GB", "+44"), ("4915112345678", "US", "+1")],
    )
    def test_refuses_a_number_of_another_country(self, msisdn, country, expected):
        error = _error(v.validate_msisdn_country, msisdn, country)
        assert error.field == "msisdn"
        assert error.rule == f"must start with the country calling code of {country} ({expected})"
        assert error.msisdn == msisdn

    def test_a_code_nobody_has(self):
        error = _error(v.validate_msisdn_country, "2891234567", "NL")  # +28x is not assigned
        assert "no assigned country calling code" in str(error)

    def test_the_sandbox_pool_passes(self, sandbox):
        for country in ("GB", "NL", "US", "DE", "FR"):
            for number in sandbox.admin.pool(country):
                assert v.validate_msisdn_country(number["msisdn"], country)


class TestMsisdn:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("31612345678", "31612345678"),
            ("+31 6 1234 5678", "31612345678"),
            (31612345678, "31612345678"),
            ("1234567", "1234567"),
            ("319700000000000"[:15], "319700000000000"),
        ],
    )
    def test_normalises(self, value, expected):
        assert v.validate_msisdn(value) == expected

    @pytest.mark.parametrize(
        ("value", "rule_part"),
        [
            ("0612345678", "must not start with 0"),
            ("123456", "7 to 15 digits"),
            ("1234567890123456", "7 to 15 digits"),
            ("3161234abcd", "digits only"),
            ("31-612-345", "digits only"),
            ("", "7 to 15 digits"),
            (None, "7 to 15 digits"),
            (True, "7 to 15 digits"),
            (
                "\uff13\uff11\uff16\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18",
                "digits only",
            ),  # full-width
        ],
    )
    def test_rejects(self, value, rule_part):
        error = _error(v.validate_msisdn, value)
        assert error.field == "msisdn"
        assert rule_part in error.rule

    def test_custom_field_name(self):
        assert _error(v.validate_msisdn, "x", field="numbers[2]").field == "numbers[2]"


class TestPaging:
    @pytest.mark.parametrize("value", [1, 100, "50", 10.0])
    def test_size_ok(self, value):
        assert v.validate_page_size(value) == int(float(value))

    @pytest.mark.parametrize("value", [0, 101, -1, "ten", 1.5, True, None])
    def test_size_bad(self, value):
        error = _error(v.validate_page_size, value)
        assert error.field == "size"
        assert "1 to 100" in error.rule

    @pytest.mark.parametrize("value", [1, 2, "7", 1000])
    def test_index_ok(self, value):
        assert v.validate_index(value) == int(value)

    @pytest.mark.parametrize("value", [0, -1, "0", "first", False])
    def test_index_bad(self, value):
        error = _error(v.validate_index, value)
        assert error.field == "index"
        assert ">= 1" in error.rule


class TestSearchPattern:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            (0, 0),
            (1, 1),
            (2, 2),
            ("1", 1),
            ("starts_with", 0),
            ("CONTAINS", 1),
            ("ends-with", 2),
            (SearchPattern.ENDS_WITH, 2),
            (None, None),
        ],
    )
    def test_accepts(self, value, expected):
        assert v.validate_search_pattern(value) == expected

    @pytest.mark.parametrize("value", [3, -1, "middle", 1.5, True])
    def test_rejects(self, value):
        error = _error(v.validate_search_pattern, value)
        assert error.field == "search_pattern"
        assert "starts_with" in error.rule

    def test_pattern_digits(self):
        assert v.validate_pattern("+31 6") == "316"
        assert v.validate_pattern(None) is None
        assert v.validate_pattern("") is None
        assert _error(v.validate_pattern, "31*").field == "pattern"


class TestTypeAndFeatures:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("landline", "landline"),
            ("Mobile-LVN", "mobile-lvn"),
            ("landline_toll_free", "landline-toll-free"),
        ],
    )
    def test_type(self, value, expected):
        assert v.validate_number_type(value) == expected

    def test_type_rejects(self):
        error = _error(v.validate_number_type, "mobile")
        assert error.field == "type"
        assert "mobile-lvn" in error.rule

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("sms", "SMS"),
            (["voice", "SMS"], "SMS,VOICE"),
            ("VOICE,SMS", "SMS,VOICE"),
            (" voice , sms ", "SMS,VOICE"),
            (["MMS", "VOICE"], "VOICE,MMS"),
            ("mms,sms", "SMS,MMS"),
            (["VOICE", "MMS", "SMS"], "SMS,MMS,VOICE"),
            (("SMS", "SMS"), "SMS"),
            (None, None),
            ("", None),
            ([], None),
        ],
    )
    def test_features_canonical(self, value, expected):
        assert v.validate_features(value) == expected

    @pytest.mark.parametrize("value", ["SMS,FAX", ["DATA"], 5, {"SMS": 1}, [1]])
    def test_features_rejects(self, value):
        error = _error(v.validate_features, value)
        assert error.field == "features"

    def test_tolerant_features_from_the_wire(self):
        assert v.canonical_features(["VOICE", "SMS"]) == ["SMS", "VOICE"]
        assert v.canonical_features("voice,mms,sms") == ["SMS", "MMS", "VOICE"]
        assert v.canonical_features(["VOICE", "RCS"]) == ["VOICE", "RCS"]
        assert v.canonical_features(None) == []


class TestUrls:
    @pytest.mark.parametrize("value", ["https://example.com/mo", "http://10.0.0.1:8080/x?y=1", ""])
    def test_webhook_ok(self, value):
        assert v.validate_url("mo_http_url", value) == value

    @pytest.mark.parametrize(
        "value", ["example.com/mo", "/relative", "ftp://example.com", "https://", "https://exa mple.com", 5]
    )
    def test_webhook_bad(self, value):
        error = _error(v.validate_url, "mo_http_url", value)
        assert error.field == "mo_http_url"
        assert "absolute" in error.rule

    def test_empty_not_allowed_when_asked(self):
        assert _error(v.validate_url, "host", "", allow_empty=False).field == "host"

    @pytest.mark.parametrize(
        "url", ["https://api.example.com", "http://127.0.0.1:9/x", "http://localhost/x", "http://[::1]:8/"]
    )
    def test_secure_url_ok(self, url):
        assert v.require_secure_url("base_url", url) == url

    def test_secure_url_refuses_plain_http_to_remote_host(self):
        error = _error(v.require_secure_url, "token_url", "http://api-prd.kpn.com/oauth")
        assert error.field == "token_url"
        assert error.rule == "https required for non-loopback hosts"
        assert "client secret" in str(error)
        assert "loopback" in str(error)


class TestVoiceAndUpdates:
    def test_voice_pairs(self):
        assert v.validate_voice_callback("SIP", "sip:alice@example.com") == ("sip", "sip:alice@example.com")
        assert v.validate_voice_callback("tel", "+31 20 123 4567") == ("tel", "31201234567")
        assert v.validate_voice_callback("", "") == ("", "")
        assert v.validate_voice_callback(None, None) == (None, None)

    def test_deprecated_app_type_is_refused_pointing_to_app_id(self):
        """The real API answered 500 to voiceCallbackType=app (and the client then retried that write)."""
        with pytest.raises(NexmoValidationError) as info:
            v.validate_voice_callback("app", "aaaa-bbbb")
        assert info.value.field == "voice_callback_type"
        assert "app_id" in info.value.rule
        assert "500" in info.value.rule

    def test_value_without_type(self):
        error = _error(v.validate_update_changes, {"voice_callback_value": "sip:a@b.c"})
        assert error.field == "voice_callback_value"
        assert "voice_callback_type" in error.rule

    def test_type_without_value(self):
        error = _error(v.validate_update_changes, {"voice_callback_type": "sip"})
        assert error.field == "voice_callback_type"
        assert "voice_callback_value" in error.rule

    @pytest.mark.parametrize(
        ("vtype", "value", "field"),
        [("fax", "123", "voice_callback_type"), ("sip", "alice@example.com", "voice_callback_value"),
         ("tel", "abc", "voice_callback_value")],
    )  # fmt: skip
    def test_bad_voice(self, vtype, value, field):
        error = _error(
            v.validate_update_changes, {"voice_callback_type": vtype, "voice_callback_value": value}
        )
        assert error.field == field

    def test_clearing_one_clears_both(self):
        assert v.validate_update_changes({"voice_callback_type": ""}) == {
            "voice_callback_type": "",
            "voice_callback_value": "",
        }

    def test_none_means_unchanged_and_empty_clears(self):
        assert v.validate_update_changes({"mo_http_url": None, "voice_status_callback": ""}) == {
            "voice_status_callback": ""
        }

    def test_unknown_field(self):
        error = _error(v.validate_update_changes, {"moHttpUrl": "https://x.example"})
        assert error.field == "moHttpUrl"
        assert "not an updatable" in error.rule

    def test_bad_webhook(self):
        assert _error(v.validate_update_changes, {"mo_http_url": "example.com"}).field == "mo_http_url"


def test_validation_error_is_a_value_error_and_survives_pickling():
    error = _error(v.validate_country, "XX")
    assert isinstance(error, ValueError)
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.field, copy.rule, str(copy)) == (error.field, error.rule, str(error))


@pytest.mark.parametrize(
    "url", ["https://user:pw@hooks.example.com/sms", "https://user@hooks.example.com/sms"]
)
def test_url_with_credentials_is_refused_without_echoing_the_password(url):
    with pytest.raises(NexmoValidationError) as err:
        v.validate_url("mo_http_url", url)
    assert err.value.field == "mo_http_url"
    assert "pw" not in str(err.value)


def test_redact_url_hides_userinfo_only():
    assert v.redact_url("https://u:secret@h.example/x?y=1") == "https://***@h.example/x?y=1"
    assert v.redact_url("https://h.example/x@y") == "https://h.example/x@y"
    assert v.redact_url("sip:447700900000@pbx.example") == "sip:447700900000@pbx.example"  # no authority
    assert v.redact_url("sips://u:p@pbx.example/x") == "sips://***@pbx.example/x"
    assert v.redact_url("") == ""
