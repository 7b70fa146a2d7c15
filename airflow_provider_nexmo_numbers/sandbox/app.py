"""Assemble the ASGI application: routers, 404/405 bodies, lifespan, and the drop-connection layer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from . import admin_routes, kpn_routes, vonage_routes
from .config import ADMIN_PREFIX, KPN_PREFIX, TOKEN_PATH, SandboxConfig
from .core import Sandbox
from .faults import DropConnectionMiddleware
from .stats import TOKEN
from .wire import envelope, json_response

_API_PATHS = ("/account/numbers", "/number/search", "/number/buy", "/number/cancel", "/number/update")


def _stats_key(method: str, path: str, vonage: bool) -> str | None:
    """Stats key for a request that never reached a handler (404/405), or None if not an API path."""
    if path == TOKEN_PATH:
        return TOKEN
    if path.startswith(KPN_PREFIX + "/"):
        return f"{method} {path[len(KPN_PREFIX) :]}"
    if vonage and path in _API_PATHS:
        return f"{method} {path}"
    return None


def build_app(config: SandboxConfig) -> FastAPI:
    sandbox = Sandbox(config)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        sandbox.faults.release_hangs()
        await sandbox.checker.aclose()

    app = FastAPI(
        title="Nexmo Numbers sandbox",
        docs_url=ADMIN_PREFIX + "/docs",
        openapi_url=ADMIN_PREFIX + "/openapi.json",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.sandbox = sandbox
    app.include_router(kpn_routes.router)
    app.include_router(admin_routes.router)
    if config.vonage_direct:
        app.include_router(vonage_routes.router)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        key = _stats_key(request.method, request.url.path, config.vonage_direct)
        headers: dict[str, Any] = dict(exc.headers or {})
        if key is None:
            return json_response({"detail": exc.detail}, exc.status_code, headers)
        sandbox.stats.record(key, exc.status_code)
        label = {404: "not found", 405: "method not allowed"}.get(exc.status_code, str(exc.detail).lower())
        return json_response(envelope(exc.status_code, label), exc.status_code, headers)

    return app


def create_app(config: SandboxConfig | None = None) -> DropConnectionMiddleware:
    """The ASGI app to serve (e.g. `uvicorn.run(create_app(cfg))`)."""
    return DropConnectionMiddleware(build_app(config or SandboxConfig()))
