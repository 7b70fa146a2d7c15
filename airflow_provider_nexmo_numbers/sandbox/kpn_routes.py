"""KPN flavour: the Apigee token endpoint and the five operations under /communication/nexmo/phone-numbers."""

from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from .config import KPN_PREFIX, TOKEN_PATH
from .core import Sandbox
from .gateway import basic_credentials
from .operations import FORM, add_operation_routes
from .stats import TOKEN
from .wire import REASON_HEADER, dumps, injected_error_body, json_response, token_error

router = APIRouter()
add_operation_routes(router, KPN_PREFIX, kpn=True)


def _sandbox(request: Request) -> Sandbox:
    return request.app.state.sandbox


def _token_answer(sb: Sandbox, status: int, body: bytes, headers: dict[str, str] | None = None) -> Response:
    sb.stats.record(TOKEN, status)
    return json_response(body, status, headers)


@router.post(TOKEN_PATH)
async def access_token(request: Request) -> Response:
    """OAuth2 client credentials, the way Apigee's GenerateAccessToken policy answers."""
    sb = _sandbox(request)
    fault = sb.faults.next_fault(TOKEN)  # only queued faults target the token endpoint
    if fault is not None:
        sb.stats.faults[fault.kind] += 1
        if fault.kind == "hang":
            if not await sb.faults.hang(
                fault.seconds if fault.seconds is not None else sb.faults.current.hang_seconds
            ):
                return _token_answer(sb, 504, injected_error_body(504, kpn=True, identifier="token"))
        elif fault.kind == "status":
            status = fault.status or 500
            headers = {REASON_HEADER: "injected fault"}
            if fault.retry_after is not None or status == 429:
                headers["Retry-After"] = f"{fault.retry_after if fault.retry_after is not None else 1:g}"
            return _token_answer(
                sb, status, injected_error_body(status, kpn=True, identifier="token"), headers
            )
        elif fault.kind == "revoke_token":
            return _token_answer(sb, 401, token_error("invalid_client", "Client credentials are invalid"))

    body = await request.body()
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if body and content_type != FORM:
        message = (
            f"Unsupported content type : {content_type or 'none'}. Send client_id and client_secret as {FORM}"
        )
        return _token_answer(sb, 400, token_error("invalid_request", message))
    form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    grant_type = request.query_params.get("grant_type") or form.get("grant_type")
    if not grant_type:
        return _token_answer(sb, 400, token_error("invalid_request", "Required param : grant_type"))
    if grant_type != "client_credentials":
        return _token_answer(
            sb, 400, token_error("invalid_request", f"Unsupported grant type : {grant_type}")
        )
    client_id, client_secret = form.get("client_id"), form.get("client_secret")
    if not client_id:
        basic = basic_credentials(request.headers.get("authorization"))
        if basic is not None:
            client_id, client_secret = basic
    if not client_id:
        return _token_answer(sb, 401, token_error("invalid_client", "ClientId is Invalid"))
    if not sb.tokens.check_credentials(client_id, client_secret or ""):
        return _token_answer(sb, 401, token_error("invalid_client", "Client credentials are invalid"))
    sb.stats.tokens_issued += 1
    return _token_answer(sb, 200, dumps(sb.tokens.issue(client_id)), {"Cache-Control": "no-store"})
