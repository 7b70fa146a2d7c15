"""uvicorn settings and socket binding shared by the in-process runner and the console script.

Binding the socket ourselves is how port 0 works: the OS picks a free port, known before uvicorn starts.
"""

from __future__ import annotations

import socket
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


def uvicorn_config(app: Any, config: SandboxConfig, *, in_process: bool) -> Any:
    import uvicorn

    return uvicorn.Config(
        app,
        log_level=config.log_level,
        log_config=None
        if in_process
        else uvicorn.config.LOGGING_CONFIG,  # don't reconfigure the host's logging
        access_log=False,
        http=http_implementation(),
        loop="auto",
        lifespan="on",
        timeout_graceful_shutdown=2,
        timeout_keep_alive=30,
        server_header=False,
    )
