"""A faithful local stand-in for the Nexmo Numbers API behind KPN's OAuth gateway (and Vonage direct).

Importing this package is cheap: FastAPI and uvicorn load only when a sandbox starts. It imports nothing
from the provider's client, hooks or operators, so a bug cannot hide on both sides of the wire.
"""

from __future__ import annotations

from .admin_client import SandboxAdmin, SandboxAdminError
from .config import SandboxConfig
from .server import SandboxHandle, run_sandbox, run_sandbox_subprocess

__all__ = [
    "SandboxAdmin",
    "SandboxAdminError",
    "SandboxConfig",
    "SandboxHandle",
    "run_sandbox",
    "run_sandbox_subprocess",
]
