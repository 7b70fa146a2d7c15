"""What goes on the wire: JSON encoding and the exact error bodies of the KPN gateway (Apigee) and of Vonage.

Bodies are built as bytes once and handed to Starlette's plain `Response`, skipping FastAPI's serialiser: the
sandbox must never be the bottleneck of a benchmark.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from starlette.responses import Response

JSON = "application/json"
_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode

METHOD_FAILED = "method failed"
#: Vonage's own label for address-required countries (response420 example in vonage-numbers-openapi.yml).
ADDRESS_REQUIRED = (
    "Numbers from this country can be requested from the Dashboard (https://dashboard.nexmo.com/buy-numbers) "
    "as they require a valid local address to be provided before being purchased."
)
AUTH_FAILED = "authentication failed"
SUCCESS_BODY = b'{"error-code":"200","error-code-label":"success"}'
EMPTY_BODY = b"{}"

#: Header naming why the sandbox answered an error (the real API does not say; this helps debugging tests).
REASON_HEADER = "x-sandbox-reason"


def dumps(data: Any) -> bytes:
    return _dumps(data).encode()


def json_response(body: bytes | Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    if not isinstance(body, bytes):
        body = dumps(body)
    return Response(content=body, status_code=status, headers=dict(headers or {}), media_type=JSON)


def envelope(code: int | str, label: str) -> bytes:
    """Vonage's string envelope: {"error-code": "420", "error-code-label": "method failed"}."""
    return dumps({"error-code": str(code), "error-code-label": label})


def apigee_fault(faultstring: str, errorcode: str) -> bytes:
    return dumps({"fault": {"faultstring": faultstring, "detail": {"errorcode": errorcode}}})


# Apigee VerifyAccessToken faults (KPN flavour, 401)
FAULT_NO_TOKEN = apigee_fault("Invalid access token", "oauth.v2.InvalidAccessToken")
FAULT_INVALID_TOKEN = apigee_fault("Invalid Access Token", "keymanagement.service.invalid_access_token")
FAULT_EXPIRED_TOKEN = apigee_fault("Access Token expired", "keymanagement.service.access_token_expired")


def quota_fault(identifier: str) -> bytes:
    return apigee_fault(
        f"Rate limit quota violation. Quota limit exceeded. Identifier : {identifier}",
        "policies.ratelimit.QuotaViolation",
    )


_GATEWAY_FAULTS = {
    500: ("Internal Server Error", "messaging.adaptors.http.flow.InternalServerError"),
    502: ("Bad Gateway", "messaging.adaptors.http.flow.BadGateway"),
    503: ("The Service is temporarily unavailable", "messaging.adaptors.http.flow.ServiceUnavailable"),
    504: ("Gateway Timeout", "messaging.adaptors.http.flow.GatewayTimeout"),
}
_REASONS = {
    400: "bad request",
    401: AUTH_FAILED,
    403: "forbidden",
    404: "not found",
    405: "method not allowed",
    409: "conflict",
    415: "unsupported media type",
    420: METHOD_FAILED,
    429: "throttled",
    500: "internal error",
    502: "bad gateway",
    503: "service unavailable",
    504: "gateway timeout",
}


def injected_error_body(status: int, *, kpn: bool, identifier: str) -> bytes:
    """The body of an injected failure: what the gateway (KPN) or Vonage would plausibly answer."""
    if status == 429 and kpn:
        return quota_fault(identifier)
    if status == 401 and kpn:
        return FAULT_INVALID_TOKEN
    if kpn and status in _GATEWAY_FAULTS:
        return apigee_fault(*_GATEWAY_FAULTS[status])
    return envelope(status, _REASONS.get(status, "error"))


def token_error(error_code: str, message: str) -> bytes:
    """Apigee GenerateAccessToken error body: {"ErrorCode": "invalid_client", "Error": "..."}."""
    return dumps({"ErrorCode": error_code, "Error": message})
