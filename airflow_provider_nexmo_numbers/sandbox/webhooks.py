"""Webhooks: the demo endpoints that become ready after a delay, and the readiness check `update` performs.

The check uses an async httpx client on the server's own event loop, so checking a webhook served by this very
sandbox (the demo one) cannot deadlock: the loop serves the GET while the update handler awaits it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    import httpx


@dataclass
class DemoWebhook:
    name: str
    ready_at: float  # time.monotonic()
    status_until_ready: int = 503
    hits: dict[str, int] = field(default_factory=dict)

    def answer(self, method: str) -> tuple[int, dict[str, Any]]:
        self.hits[method] = self.hits.get(method, 0) + 1
        remaining = self.ready_at - time.monotonic()
        if remaining > 0:
            return self.status_until_ready, {
                "name": self.name,
                "ready": False,
                "ready_in": round(remaining, 3),
            }
        return 200, {"name": self.name, "ready": True}

    def describe(self) -> dict[str, Any]:
        remaining = max(0.0, self.ready_at - time.monotonic())
        return {
            "name": self.name,
            "ready": remaining == 0.0,
            "ready_in": round(remaining, 3),
            "hits": self.hits,
            "status_until_ready": self.status_until_ready,
        }


class DemoWebhooks:
    def __init__(self, default_delay: float) -> None:
        self._hooks: dict[str, DemoWebhook] = {}
        self.configure("demo", default_delay)

    def configure(self, name: str, ready_after: float, status_until_ready: int = 503) -> DemoWebhook:
        hook = DemoWebhook(name, time.monotonic() + max(0.0, ready_after), status_until_ready)
        self._hooks[name] = hook
        return hook

    def get(self, name: str) -> DemoWebhook | None:
        return self._hooks.get(name)

    def describe(self) -> list[dict[str, Any]]:
        return [hook.describe() for hook in self._hooks.values()]


class WebhookChecker:
    """GET the URL with a short timeout; ready only on 200 (no redirects followed).

    The real check runs from Vonage's network: a loopback, private or link-local address (or a name that
    resolves only to such addresses) can never pass it, so it fails here too unless `allow_loopback` is
    set (tests and the demo serve their webhooks on 127.0.0.1 and say so).

    `ca_bundle` (a TLS sandbox's own certificate) is trusted on top of the system's CAs, so an https sandbox
    can check the demo webhooks it serves itself, while other https webhooks are verified as usual.
    """

    def __init__(self, timeout: float, ca_bundle: str | None = None) -> None:
        self.timeout = timeout
        self.ca_bundle = ca_bundle
        self.allow_loopback = False
        self._client: httpx.AsyncClient | None = None

    async def check(self, url: str) -> tuple[bool, str]:
        import httpx  # lazily: only updates with a webhook need it (saves start-up time)

        if not self.allow_loopback:
            host = urlsplit(url).hostname or ""
            if await _private_only(host, self.timeout):
                return False, f"webhook check failed: {host} is not reachable from the API's network"

        if self._client is None:
            verify: Any = True
            if self.ca_bundle:
                import ssl

                verify = ssl.create_default_context()
                verify.load_verify_locations(self.ca_bundle)
            self._client = httpx.AsyncClient(follow_redirects=False, trust_env=False, verify=verify)
        try:
            response = await self._client.get(url, timeout=self.timeout)
        except httpx.HTTPError as exc:
            return False, f"webhook check failed: GET {url} raised {type(exc).__name__}"
        if response.status_code != 200:
            return False, f"webhook check failed: GET {url} answered {response.status_code}"
        return True, "webhook check passed"

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def _not_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    return not ip.is_global


async def _private_only(host: str, timeout: float) -> bool:
    """True when `host` is (or resolves only to) loopback/private/link-local addresses: Vonage cannot
    reach it. A name that does not resolve is left to the GET, which then fails as it would."""
    if not host:
        return False
    try:
        return _not_public(host)
    except ValueError:
        pass
    if host.lower() == "localhost" or host.lower().endswith(".localhost"):
        return True
    try:
        lookup = asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
        infos = await asyncio.wait_for(lookup, timeout)
    except (OSError, asyncio.TimeoutError):
        return False
    addresses = {info[4][0] for info in infos}
    return bool(addresses) and all(_not_public(a) for a in addresses)
