"""How HTTP outcomes map to typed errors (no network: responses are built in memory)."""

from __future__ import annotations

import json
import pickle
import time

import pytest
import requests

from airflow_provider_nexmo_numbers.client import (
    NexmoAuthError,
    NexmoMethodFailedError,
    NexmoNumbersError,
    NexmoServerError,
    NexmoThrottledError,
    NexmoTransportError,
    NexmoValidationError,
)
from airflow_provider_nexmo_numbers.client.responses import (
    parse_retry_after,
    raise_for_response,
    transport_error,
)


def _response(status: int, body=None, headers=None, raw: bytes | None = None) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
    response.headers.update(headers or {})
    return response


def _raises(response, cls):
    with pytest.raises(cls) as info:
        raise_for_response(response, operation="POST /number/buy", msisdn="31612345678")
    return info.value


def test_success_body_is_returned():
    assert raise_for_response(_response(200, {"count": 1}), operation="x") == {"count": 1}
    assert raise_for_response(_response(200, {"error-code": "200"}), operation="x") == {"error-code": "200"}


def test_http_200_with_error_code_is_a_failure():
    error = _raises(
        _response(200, {"error-code": "420", "error-code-label": "method failed"}), NexmoMethodFailedError
    )
    assert (error.status, error.error_code, error.error_code_label) == (200, "420", "method failed")
    assert "method failed" in str(error)
    assert "31612345678" in str(error)
    assert "POST /number/buy" in str(error)
    generic = _raises(_response(200, {"error-code": "1234", "error-code-label": "odd"}), NexmoNumbersError)
    assert generic.error_code == "1234"


@pytest.mark.parametrize(
    ("status", "cls"),
    [(401, NexmoAuthError), (403, NexmoAuthError), (420, NexmoMethodFailedError), (429, NexmoThrottledError),
     (500, NexmoServerError), (502, NexmoServerError), (503, NexmoServerError), (504, NexmoServerError),
     (404, NexmoNumbersError), (405, NexmoNumbersError)],
)  # fmt: skip
def test_status_to_type(status, cls):
    error = _raises(_response(status, {"error-code": str(status), "error-code-label": "label"}), cls)
    assert error.status == status
    assert error.error_code_label == "label"
    assert f"http_status={status}" in str(error)


def test_400_names_the_field():
    error = _raises(_response(400, {"country": "Is required."}), NexmoValidationError)
    assert (error.field, error.rule) == ("country", "Is required.")


def test_apigee_fault_body():
    body = {
        "fault": {
            "faultstring": "Invalid access token",
            "detail": {"errorcode": "oauth.v2.InvalidAccessToken"},
        }
    }
    error = _raises(_response(401, body), NexmoAuthError)
    assert error.error_code == "oauth.v2.InvalidAccessToken"
    assert error.error_code_label == "Invalid access token"


def test_non_json_200_is_a_server_error():
    error = _raises(_response(200, raw=b"<html>proxy</html>"), NexmoServerError)
    assert error.status == 200


def test_retry_after_on_429():
    error = _raises(_response(429, None, {"Retry-After": "7"}), NexmoThrottledError)
    assert error.retry_after == 7.0
    assert "retry_after=7s" in str(error)


def test_parse_retry_after_forms():
    now = 1_700_000_000.0
    assert parse_retry_after({"Retry-After": "3"}, now=now) == 3.0
    assert parse_retry_after({"Retry-After": "Tue, 14 Nov 2023 22:13:25 GMT"}, now=now) == pytest.approx(5.0)
    assert parse_retry_after({"quota-reset-UTC": str(int((now + 4) * 1000))}, now=now) == pytest.approx(4.0)
    assert parse_retry_after({"quota-reset-UTC": str(now + 2)}, now=now) == pytest.approx(2.0)
    assert parse_retry_after({"quota-reset-UTC": "2023-11-14T22:13:26Z"}, now=now) == pytest.approx(6.0)
    assert parse_retry_after({"quota-reset-UTC": "2000-01-01T00:00:00Z"}, now=now) == 0.0
    assert parse_retry_after({"Retry-After": "soon"}, now=now) is None
    assert parse_retry_after({}, now=now) is None
    assert parse_retry_after({"Retry-After": "1"}) == 1.0  # default clock
    assert time.time() > 0


def test_transport_errors_know_whether_the_request_left():
    refused = requests.ConnectionError("refused")
    assert transport_error(requests.exceptions.ConnectTimeout("x"), operation="op").sent is False
    assert transport_error(requests.exceptions.ReadTimeout("x"), operation="op").sent is True
    assert transport_error(refused, operation="op").sent is True  # unknown cause: assume it may have left
    tls = transport_error(requests.exceptions.SSLError("bad cert"), operation="op")
    assert (tls.sent, tls.retryable) == (False, False)
    copy = pickle.loads(pickle.dumps(tls))
    assert isinstance(copy, NexmoTransportError)
    assert (copy.sent, copy.retryable) == (False, False)


def test_quota_reset_wins_when_sooner_than_retry_after():
    now = 1_700_000_000.0
    headers = {"Retry-After": "1", "quota-reset-UTC": str(int((now + 0.05) * 1000))}
    assert parse_retry_after(headers, now=now) == pytest.approx(0.05, abs=0.002)
    later = {"Retry-After": "1", "quota-reset-UTC": str(int((now + 3) * 1000))}
    assert parse_retry_after(later, now=now) == 1.0
    past = {"Retry-After": "1", "quota-reset-UTC": str(int((now - 3) * 1000))}  # skewed clock
    assert parse_retry_after(past, now=now) == 1.0
