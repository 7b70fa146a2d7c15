"""Models read wire names, expose Python names, and give JSON-safe dicts."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from pydantic import ValidationError

from airflow_provider_nexmo_numbers.client import (
    AvailableNumber,
    BuyResult,
    CancelResult,
    NumberPage,
    OwnedNumber,
)
from airflow_provider_nexmo_numbers.client.models import OwnedNumbersEnvelope

WIRE_OWNED = {
    "country": "nl",
    "msisdn": 31612345678,
    "type": "mobile-lvn",
    "features": ["VOICE", "SMS"],
    "moHttpUrl": "https://example.com/mo",
    "moSmppSysType": "inbound",
    "voiceCallbackType": "sip",
    "voiceCallbackValue": "sip:a@example.com",
    "voiceStatusCallback": "https://example.com/status",
    "messagesCallbackType": "app",
    "messagesCallbackValue": "app-1",
    "somethingNew": "ignored",
}


def test_owned_number_from_wire_and_to_dict():
    number = OwnedNumber.model_validate(WIRE_OWNED)
    data = number.to_dict()
    assert data == {
        "country": "NL",
        "msisdn": "31612345678",
        "type": "mobile-lvn",
        "features": ["SMS", "VOICE"],
        "mo_http_url": "https://example.com/mo",
        "mo_smpp_sys_type": "inbound",
        "voice_callback_type": "sip",
        "voice_callback_value": "sip:a@example.com",
        "voice_status_callback": "https://example.com/status",
        "messages_callback_type": "app",
        "messages_callback_value": "app-1",
        "app_id": None,
    }
    json.dumps(data)


def test_owned_number_by_python_names_and_settings():
    number = OwnedNumber(
        country="GB", msisdn="447700900000", type="landline", features="voice", mo_http_url=""
    )
    assert number.features == ["VOICE"]
    assert number.settings() == {
        "mo_http_url": "",
        "mo_smpp_sys_type": "",
        "voice_callback_type": "",
        "voice_callback_value": "",
        "voice_status_callback": "",
        "app_id": "",
    }


def test_available_number_money_as_strings():
    number = AvailableNumber.model_validate(
        {"country": "NL", "msisdn": "3197000000001", "type": "mobile-lvn", "cost": "1.25",
         "initialPrice": "0.50", "features": "SMS,VOICE"}
    )  # fmt: skip
    assert number.cost == Decimal("1.25")
    assert number.to_dict() == {
        "country": "NL",
        "msisdn": "3197000000001",
        "type": "mobile-lvn",
        "features": ["SMS", "VOICE"],
        "cost": "1.25",
        "initial_price": "0.50",
    }
    no_price = AvailableNumber.model_validate({"country": "NL", "msisdn": "31970", "cost": "3"})
    assert no_price.to_dict()["initial_price"] is None


def test_page_and_results():
    page = NumberPage[OwnedNumber](count=3, numbers=[OwnedNumber.model_validate(WIRE_OWNED)], index=2, size=1)
    data = page.to_dict()
    assert data["count"] == 3
    assert data["index"] == 2
    assert data["size"] == 1
    assert data["numbers"][0]["msisdn"] == "31612345678"
    assert BuyResult(country="NL", msisdn="31", already_owned=True).to_dict() == {
        "country": "NL",
        "msisdn": "31",
        "already_owned": True,
        "refused_as_owned": False,
    }
    assert CancelResult(country="NL", msisdn="31").to_dict() == {
        "country": "NL",
        "msisdn": "31",
        "already_released": False,
    }


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"country": "GB", "msisdn": "447700900000", "features": ["SMS", "VOICE"]},
         ("GB", "447700900000", ["SMS", "VOICE"])),
        ({"country": " gb ", "msisdn": "+447700900000 ", "features": ["VOICE", "SMS"]},
         ("GB", "447700900000", ["SMS", "VOICE"])),
        ({"country": "nl", "msisdn": 3197000000001, "features": "voice,sms"},
         ("NL", "3197000000001", ["SMS", "VOICE"])),
    ],
)  # fmt: skip
def test_the_compiled_fast_path_and_the_python_fallback_agree(raw, expected):
    """Listings are validated from the JSON bytes (country and canonical msisdns without calling Python):
    canonical and odd values come out the same as before."""
    page = json.dumps({"count": 1, "numbers": [raw]}).encode()
    number = OwnedNumbersEnvelope.model_validate_json(page).numbers[0]
    assert (number.country, number.msisdn, number.features) == expected
    assert OwnedNumber.model_validate(raw) == number


@pytest.mark.parametrize("msisdn", [None, ["447700900000"], True])
def test_an_msisdn_that_is_no_number_is_still_refused(msisdn):
    with pytest.raises(ValidationError):
        OwnedNumber.model_validate({"country": "GB", "msisdn": msisdn})
