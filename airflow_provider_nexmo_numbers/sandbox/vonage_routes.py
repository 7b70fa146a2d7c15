"""Vonage-direct flavour at the root path (like https://rest.nexmo.com), with api_key/api_secret auth.

Same operations and state as the KPN flavour (api_key = client id), plus Vonage's extra parameters:
`target_api_key` (buy, cancel), `app_id` and the deprecated messages callback (update), `country`,
`application_id`, `has_application` (list), and the Account API's balance (`GET /account/get-balance`, same
host and auth: `{"value": <EUR>, "autoReload": <bool>}`).
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from .core import Sandbox
from .operations import add_operation_routes, vonage_identity
from .wire import AUTH_FAILED, envelope, json_response

BALANCE = "GET /account/get-balance"

router = APIRouter()
add_operation_routes(router, "", kpn=False)


@router.get("/account/get-balance")
async def get_balance(request: Request) -> Response:
    sb: Sandbox = request.app.state.sandbox
    client_id = vonage_identity(sb, request, None)
    if client_id is None:
        sb.stats.record(BALANCE, 401)
        return json_response(envelope(401, AUTH_FAILED), 401)
    allowed, _ = sb.quota.check(client_id)
    if not allowed:
        sb.stats.record(BALANCE, 429)
        return json_response(envelope(429, "too many requests"), 429)
    account = sb.inventory.accounts[client_id]
    sb.stats.record(BALANCE, 200)
    return json_response({"value": float(account.balance), "autoReload": account.auto_reload})
