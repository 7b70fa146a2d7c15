"""uvicorn settings and socket binding shared by the in-process runner and the console script.

Binding the socket ourselves is how port 0 works: the OS picks a free port, known before uvicorn starts.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

from .config import SandboxConfig


def http_implementation() -> str:
    """httptools when installed (faster), else h11."""
    try:
        import httptools  # noqa: F401
    except ImportError:
        return "h11"
    return "httptools"


def bind_socket(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)  # connections made before uvicorn starts accepting wait in the backlog, not refused
    sock.set_inheritable(True)
    return sock


def socket_url(sock: socket.socket, scheme: str = "http") -> str:
    """The URL clients use for a bound socket (IPv6 hosts in brackets)."""
    host, port = sock.getsockname()[:2]
    return f"{scheme}://{host if ':' not in host else f'[{host}]'}:{port}"


def make_server(
    config: SandboxConfig, *, in_process: bool, on_started: Callable[[], None] | None = None
) -> Any:
    """A uvicorn.Server for a new sandbox app; on shutdown it first releases hung requests (they answer 504),
    so stopping never waits for an injected hang."""
    import uvicorn

    from .app import create_app

    if config.tls and not config.ssl_certfile:
        raise ValueError("a TLS sandbox needs its certificate first: serve tls.materialise(config)[0]")
    app = create_app(config)
    sandbox = app.app.state.sandbox

    class SandboxServer(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            if on_started is not None and not self.should_exit:
                on_started()

        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            sandbox.faults.release_hangs()
            if config.tls:
                _abort_idle_connections(self.server_state.connections)
            await super().shutdown(sockets=sockets)

    return SandboxServer(uvicorn_config(app, config, in_process=in_process))


def _abort_idle_connections(connections: set[Any]) -> None:
    """Drop idle keep-alive TLS connections at once.

    uvicorn closes them gracefully, and a TLS close waits for the client's close_notify, which an idle pooled
    client (requests, Vonage's SDK) never sends: each stop would sit out the 2 s graceful-shutdown timeout.
    Connections with a request in flight are left to uvicorn, which finishes them first.
    """
    for connection in list(connections):
        cycle = getattr(connection, "cycle", None)
        transport = getattr(connection, "transport", None)
        if transport is not None and (cycle is None or cycle.response_complete):
            transport.abort()


def uvicorn_config(app: Any, config: SandboxConfig, *, in_process: bool) -> Any:
    import uvicorn

    return uvicorn.Config(
        app,
        log_level=config.log_level,
        # in-process: don't reconfigure the host's logging
        log_config=None if in_process else uvicorn.config.LOGGING_CONFIG,
        access_log=False,
        http=http_implementation(),
        loop="auto",
        lifespan="on",
        timeout_graceful_shutdown=2,
        timeout_keep_alive=30,
        server_header=False,
        # TLS: config.ssl_certfile is set (by tls.materialise for a generated certificate) when config.tls
        ssl_certfile=config.ssl_certfile if config.tls else None,
        ssl_keyfile=config.ssl_keyfile if config.tls else None,
    )
