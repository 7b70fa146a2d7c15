"""The one-call page parsing (from the response bytes) gives exactly what the general path gives, and leaves
every unusual answer to the general path: `{}`, odd counts, non-object items, errors inside an HTTP 200."""

from __future__ import annotations

import json

import pytest
import requests
from pydantic import ValidationError

from airflow_provider_nexmo_numbers.client import NexmoNumbersError, OwnedNumber
from airflow_provider_nexmo_numbers.client.client import NexmoNumbersClient, _fast_page
from airflow_provider_nexmo_numbers.client.models import OwnedNumbersEnvelope
from airflow_provider_nexmo_numbers.client.validation import canonical_features

NUMBER = {
    "country": " nl ",
    "msisdn": 31612345678,
    "type": "mobile-lvn",
    "features": "voice,sms,FAX",
    "moHttpUrl": "https://example.com/\u00e9",
    "unknownField": 1,
}


def _response(body: object, status: int = 200) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return response


def _both(body: object) -> tuple[object, object]:
    fast = _fast_page(_response(body), OwnedNumbersEnvelope)
    slow_body = json.loads(json.dumps(body)) if not isinstance(body, bytes) else None
    return fast, slow_body


def test_fast_page_equals_the_general_path():
    body = {"count": "3", "numbers": [NUMBER, {**NUMBER, "msisdn": "+31612345679", "features": ["MMS"]}]}
    fast, decoded = _both(body)
    assert isinstance(fast, OwnedNumbersEnvelope)
    got = NexmoNumbersClient._page(fast, OwnedNumber, 1, 10)
    expected = NexmoNumbersClient._page(decoded, OwnedNumber, 1, 10)
    assert got == expected
    assert got.count == 3
    assert got.numbers[0].country == "NL"
    assert got.numbers[0].msisdn == "31612345678"
    assert got.numbers[0].features == ["SMS", "VOICE", "FAX"]


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[]",
        {"count": 1, "numbers": [NUMBER, None]},  # a non-object item: the general path skips it
        {"count": 1, "numbers": {"a": 1}},
        {"count": 1, "numbers": [{"country": "NL"}]},  # invalid number: the general path raises as before
        {"error-code": "429", "error-code-label": "throttled"},
    ],
)
def test_unusual_answers_go_to_the_general_path(body):
    assert _fast_page(_response(body), OwnedNumbersEnvelope) is None


def test_only_plain_200_answers_take_the_fast_path():
    assert _fast_page(_response({"count": 0}, status=201), OwnedNumbersEnvelope) is None
    ok = _fast_page(_response({"error-code": "200", "count": 0}), OwnedNumbersEnvelope)
    assert NexmoNumbersClient._page(ok, OwnedNumber, 1, 10).count == 0
    empty = _fast_page(_response({}), OwnedNumbersEnvelope)
    assert (NexmoNumbersClient._page(empty, OwnedNumber, 4, 10).count, empty.numbers) == (0, None)


def test_an_invalid_number_still_raises_pydantic_validation_error():
    with pytest.raises(ValidationError):
        NexmoNumbersClient._page({"count": 1, "numbers": [{"country": "NL"}]}, OwnedNumber, 1, 10)


def test_error_code_inside_a_200_is_still_a_typed_error(sandbox, make_client):
    sandbox.admin.seed_owned(3)
    client = make_client(max_retries=0)
    sandbox.admin.queue_fault("status", operation="GET /account/numbers", status=420)
    with pytest.raises(NexmoNumbersError):
        client.list_owned_numbers()
    assert len(client.list_owned_numbers().numbers) == 3


def test_features_memo_returns_fresh_equal_lists():
    first = canonical_features(["VOICE", "SMS"])
    first.append("X")
    assert canonical_features(["VOICE", "SMS"]) == ["SMS", "VOICE"]
    assert canonical_features("voice, sms") == ["SMS", "VOICE"]
    assert canonical_features([True]) == ["TRUE"]  # non-string items are not memoised (1 == True)
    assert canonical_features([1]) == ["1"]
    assert canonical_features(None) == []
