"""A faithful local stand-in for the Nexmo Numbers API behind KPN's OAuth gateway (and Vonage direct).

Importing this package is cheap: names load on first use, FastAPI/uvicorn only when a sandbox starts.
It imports nothing from the provider's client, hooks or operators, so a bug cannot hide on both sides of
the wire.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .admin_client import SandboxAdmin, SandboxAdminError
    from .config import SandboxConfig
    from .server import SandboxHandle, run_sandbox, run_sandbox_subprocess

_EXPORTS = {
    "SandboxAdmin": ".admin_client",
    "SandboxAdminError": ".admin_client",
    "SandboxConfig": ".config",
    "SandboxHandle": ".server",
    "run_sandbox": ".server",
    "run_sandbox_subprocess": ".server",
}
__all__ = [
    "SandboxAdmin",
    "SandboxAdminError",
    "SandboxConfig",
    "SandboxHandle",
    "run_sandbox",
    "run_sandbox_subprocess",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value
