"""Vonage-direct flavour at the root path (like https://rest.nexmo.com), with api_key/api_secret auth.

Same operations and state as the KPN flavour (api_key = client id), plus Vonage's extra parameters:
`target_api_key` (buy, cancel), `app_id` and the deprecated messages callback (update), `country`,
`application_id`, `has_application` (list), and the MMS feature.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from .operations import serve

router = APIRouter()


@router.get("/account/numbers")
async def list_owned(request: Request) -> Response:
    return await serve(request.app.state.sandbox, request, "GET /account/numbers", kpn=False)


@router.get("/number/search")
async def search(request: Request) -> Response:
    return await serve(request.app.state.sandbox, request, "GET /number/search", kpn=False)


@router.post("/number/buy")
async def buy(request: Request) -> Response:
    return await serve(request.app.state.sandbox, request, "POST /number/buy", kpn=False)


@router.post("/number/cancel")
async def cancel(request: Request) -> Response:
    return await serve(request.app.state.sandbox, request, "POST /number/cancel", kpn=False)


@router.post("/number/update")
async def update(request: Request) -> Response:
    return await serve(request.app.state.sandbox, request, "POST /number/update", kpn=False)
