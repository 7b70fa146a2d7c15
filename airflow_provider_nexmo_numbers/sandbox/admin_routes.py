"""Admin API under /_sandbox (clearly not the real API): reset, stats, faults, quota, tokens, seeding,
webhooks.

Bodies are JSON (this is our API, not Nexmo's). Bad input answers 400 {"detail": "..."}.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from .config import ADMIN_PREFIX, FAULT_SETTINGS
from .core import Sandbox
from .state import owned_wire
from .webhooks import DemoWebhook
from .wire import dumps, json_response

router = APIRouter(prefix=ADMIN_PREFIX)


class AdminError(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status, self.detail = status, detail


Handler = Callable[[Request], Awaitable[Any]]


def admin(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Handler data -> JSON response; ValueError/TypeError -> 400, AdminError -> its status."""

    @wraps(handler)
    async def wrapper(request: Request) -> Response:
        try:
            result = await handler(request)
        except AdminError as exc:
            return json_response({"detail": exc.detail}, exc.status)
        except (ValueError, TypeError) as exc:
            return json_response({"detail": str(exc)}, 400)
        return result if isinstance(result, Response) else json_response(result)

    return wrapper


def _sb(request: Request) -> Sandbox:
    return request.app.state.sandbox


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise AdminError(400, f"body must be JSON: {exc}") from None
    if not isinstance(data, dict):
        raise AdminError(400, "body must be a JSON object")
    return data


def _client(sb: Sandbox, client_id: str | None) -> str:
    if client_id is None:
        return sb.config.first_client[0]
    if client_id not in sb.inventory.accounts:
        raise AdminError(404, f"unknown client id {client_id!r}")
    return client_id


def _only(data: dict[str, Any], *allowed: str) -> dict[str, Any]:
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise ValueError(f"unknown field(s): {', '.join(unknown)}; allowed: {', '.join(allowed)}")
    return data


@router.get("/health")
@admin
async def health(request: Request) -> Any:
    return {"status": "ok"}


@router.get("/config")
@admin
async def config(request: Request) -> Any:
    sb = _sb(request)
    return {"config": sb.config.to_dict(), "settings": sb.settings(), "seed": sb.seed}


@router.post("/reset")
@admin
async def reset(request: Request) -> Any:
    data = _only(await _body(request), "seed", "owned_numbers")
    return _sb(request).reset(seed=data.get("seed"), owned_numbers=data.get("owned_numbers"))


@router.get("/stats")
@admin
async def stats(request: Request) -> Any:
    return _sb(request).stats.snapshot()


@router.get("/faults")
@admin
async def get_faults(request: Request) -> Any:
    return _sb(request).faults.settings()


@router.post("/faults")
@admin
async def set_faults(request: Request) -> Any:
    data = _only(await _body(request), *FAULT_SETTINGS)
    return _sb(request).faults.configure(**data)


@router.post("/faults/queue")
@admin
async def queue_fault(request: Request) -> Any:
    data = _only(await _body(request), "kind", "operation", "count", "status", "retry_after", "seconds")
    if "kind" not in data:
        raise ValueError("kind is required")
    return _sb(request).faults.queue(**data)


@router.delete("/faults/queue")
@admin
async def clear_fault_queue(request: Request) -> Any:
    faults = _sb(request).faults
    faults.clear_queue()
    return faults.settings()


@router.post("/quota")
@admin
async def set_quota(request: Request) -> Any:
    rps = _only(await _body(request), "rps").get("rps")
    if rps is not None and float(rps) <= 0:
        raise ValueError("rps must be > 0 or null")
    sb = _sb(request)
    sb.quota.set(None if rps is None else float(rps))
    return {"rps": sb.quota.rps, "limit": sb.quota.limit, "interval": sb.quota.interval}


@router.post("/tokens/revoke")
@admin
async def revoke_tokens(request: Request) -> Any:
    data = _only(await _body(request), "client_id")
    sb = _sb(request)
    client_id = data.get("client_id")
    if client_id is not None:
        _client(sb, client_id)
    revoked = sb.tokens.revoke(client_id=client_id)
    sb.stats.tokens_revoked += revoked
    return {"revoked": revoked}


@router.get("/tokens")
@admin
async def tokens(request: Request) -> Any:
    """Every access token issued since the last reset, oldest first, revoked ones included (they stay
    secrets a test must not find in its logs)."""
    return [token.to_dict() for token in _sb(request).tokens.issued()]


@router.post("/settings")
@admin
async def settings(request: Request) -> Any:
    data = _only(
        await _body(request),
        "webhook_check",
        "token_ttl",
        "webhook_timeout",
        "webhook_allow_loopback",
        "strict",
        "read_lag",
    )
    sb = _sb(request)
    if "webhook_check" in data:
        sb.webhook_check = bool(data["webhook_check"])
    if "webhook_allow_loopback" in data:
        sb.checker.allow_loopback = bool(data["webhook_allow_loopback"])
    if "strict" in data:
        sb.strict = bool(data["strict"])
    if "read_lag" in data:
        if float(data["read_lag"]) < 0:
            raise ValueError("read_lag must be >= 0")
        sb.read_lag = float(data["read_lag"])
        sb.lagging.clear()
    if "token_ttl" in data:
        if int(data["token_ttl"]) < 1:
            raise ValueError("token_ttl must be >= 1")
        sb.tokens.ttl = int(data["token_ttl"])
    if "webhook_timeout" in data:
        sb.checker.timeout = float(data["webhook_timeout"])
    return sb.settings()


@router.post("/balance")
@admin
async def set_balance(request: Request) -> Any:
    data = _only(await _body(request), "value", "auto_reload", "client_id")
    sb = _sb(request)
    client_id = data.get("client_id")
    sb.inventory.set_balance(
        None if client_id is None else _client(sb, client_id),
        data.get("value", 100.0),
        bool(data.get("auto_reload", False)),
    )
    account = sb.inventory.accounts[_client(sb, client_id)]
    return {"value": float(account.balance), "autoReload": account.auto_reload}


@router.post("/owned")
@admin
async def seed_owned(request: Request) -> Any:
    data = _only(await _body(request), "n", "client_id", "country", "configured")
    sb = _sb(request)
    n = int(data.get("n", 0))
    if n < 0:
        raise ValueError("n must be >= 0")
    return sb.inventory.seed_owned(
        _client(sb, data.get("client_id")),
        n,
        str(data.get("country", "GB")),
        configured=bool(data.get("configured", True)),
    )


@router.get("/owned")
@admin
async def owned(request: Request) -> Any:
    sb = _sb(request)
    account = sb.inventory.accounts[_client(sb, request.query_params.get("client_id"))]
    return Response(
        b"[" + b",".join(dumps(owned_wire(account.get(m), kpn=False)) for m in account) + b"]",
        media_type="application/json",
    )


@router.get("/pool")
@admin
async def pool(request: Request) -> Any:
    inventory = _sb(request).inventory
    country = request.query_params.get("country")
    countries = [country] if country else sorted({s.country for s in inventory.pool.specs.values()})
    out = []
    for c in countries:
        for m in inventory.pool.available(c):
            spec = inventory.pool.specs[m]
            item = {
                "country": spec.country,
                "msisdn": m,
                "type": spec.type,
                "features": list(spec.features),
                "cost": spec.cost,
            }
            if spec.initial_price is not None:
                item["initialPrice"] = spec.initial_price
            out.append(item)
    return out


@router.get("/webhooks")
@admin
async def list_webhooks(request: Request) -> Any:
    return _sb(request).webhooks.describe()


@router.put("/webhooks/{name}")
@admin
async def configure_webhook(request: Request) -> Any:
    data = _only(await _body(request), "ready_after", "status_until_ready")
    name = request.path_params["name"]
    status = int(data.get("status_until_ready", 503))
    if not 100 <= status <= 599:
        raise ValueError("status_until_ready must be an HTTP status")
    hook: DemoWebhook = _sb(request).webhooks.configure(name, float(data.get("ready_after", 0.0)), status)
    url = str(request.url_for("demo_webhook", name=name))
    return {**hook.describe(), "url": url}


@router.api_route(
    "/webhooks/{name}", methods=["GET", "POST", "HEAD"], name="demo_webhook", include_in_schema=False
)
async def demo_webhook(request: Request) -> Response:
    """The demo webhook itself: 503 (or the configured status) until ready, then 200."""
    hook = _sb(request).webhooks.get(request.path_params["name"])
    if hook is None:
        return json_response({"detail": "unknown webhook", "name": request.path_params["name"]}, 404)
    status, body = hook.answer(request.method)
    return json_response(body, status)
