"""SandboxAdmin: a small synchronous client for the /_sandbox admin API, used by tests and benchmarks."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import requests

from .config import ADMIN_PREFIX


class SandboxAdminError(RuntimeError):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"sandbox admin call failed with HTTP {status}: {detail}")
        self.status, self.detail = status, detail


class SandboxAdmin:
    """Talks HTTP to a running sandbox's admin prefix; every method returns the decoded JSON answer."""

    def __init__(self, url: str, timeout: float = 10.0, verify: bool | str = True) -> None:
        """`verify`: for an https sandbox, the path of its certificate (`SandboxHandle.ca_bundle`)."""
        self.url = url.rstrip("/")
        self.timeout = timeout
        self._session = requests.Session()
        self._session.trust_env = False  # never route loopback admin calls through a proxy
        self._session.verify = verify

    def _call(self, method: str, path: str, json: dict[str, Any] | None = None, **params: Any) -> Any:
        response = self._session.request(
            method, f"{self.url}{ADMIN_PREFIX}{path}", json=json, params=params or None, timeout=self.timeout
        )
        if response.status_code >= 400:
            try:
                detail = response.json().get("detail", response.text)
            except ValueError:
                detail = response.text
            raise SandboxAdminError(response.status_code, str(detail))
        return response.json()

    def health(self) -> dict[str, Any]:
        return self._call("GET", "/health")

    def config(self) -> dict[str, Any]:
        return self._call("GET", "/config")

    def reset(self, seed: int | None = None, owned_numbers: int | None = None) -> dict[str, Any]:
        """Fresh pool and accounts, faults off, quota off, stats zeroed, tokens dropped."""
        body: dict[str, Any] = {}
        if seed is not None:
            body["seed"] = seed
        if owned_numbers is not None:
            body["owned_numbers"] = owned_numbers
        return self._call("POST", "/reset", body)

    def stats(self) -> dict[str, Any]:
        return self._call("GET", "/stats")

    def faults(self) -> dict[str, Any]:
        return self._call("GET", "/faults")

    def set_faults(
        self,
        error_rate: float = 0.0,
        error_statuses: Iterable[int] = (500, 502, 503, 429),
        retry_after: float = 1.0,
        latency_ms: float = 0.0,
        hang_rate: float = 0.0,
        hang_seconds: float = 30.0,
        drop_after_commit_rate: float = 0.0,
        revoke_token_rate: float = 0.0,
        seed: int | None = 1,
    ) -> dict[str, Any]:
        """Probabilistic faults for the five API operations; calling with no arguments turns them off.

        `retry_after` is the `Retry-After` (seconds, fractions allowed) of the 429s `error_rate` draws."""
        return self._call(
            "POST",
            "/faults",
            {
                "error_rate": error_rate,
                "error_statuses": list(error_statuses),
                "retry_after": retry_after,
                "latency_ms": latency_ms,
                "hang_rate": hang_rate,
                "hang_seconds": hang_seconds,
                "drop_after_commit_rate": drop_after_commit_rate,
                "revoke_token_rate": revoke_token_rate,
                "seed": seed,
            },
        )

    def queue_fault(
        self,
        kind: str,
        operation: str | None = None,
        count: int = 1,
        status: int | None = None,
        retry_after: float | None = None,
        seconds: float | None = None,
    ) -> dict[str, Any]:
        """One-shot fault(s) for the next matching request(s): kind "status", "hang", "drop_after_commit",
        "revoke_token", "error_code" (HTTP 200 with error-code `status`) or "taken" (another customer buys
        the number just before this buy: 420; operation "POST /number/buy"); operation like
        "POST /number/buy" or "token"; None = any API operation."""
        return self._call(
            "POST",
            "/faults/queue",
            {
                "kind": kind,
                "operation": operation,
                "count": count,
                "status": status,
                "retry_after": retry_after,
                "seconds": seconds,
            },
        )

    def clear_fault_queue(self) -> dict[str, Any]:
        return self._call("DELETE", "/faults/queue")

    def set_quota(self, rps: float | None = None) -> dict[str, Any]:
        return self._call("POST", "/quota", {"rps": rps})

    def revoke_tokens(self, client_id: str | None = None) -> int:
        return self._call("POST", "/tokens/revoke", {"client_id": client_id})["revoked"]

    def tokens(self) -> list[dict[str, Any]]:
        """Every access token issued since the last reset, oldest first: `access_token`, `client_id`,
        `issued_at` and `expires_at` (epoch seconds), `revoked`. Revoked and expired ones are included."""
        return self._call("GET", "/tokens")

    def configure(
        self,
        *,
        webhook_check: bool | None = None,
        token_ttl: int | None = None,
        webhook_timeout: float | None = None,
        webhook_allow_loopback: bool | None = None,
        strict: bool | None = None,
        read_lag: float | None = None,
    ) -> dict[str, Any]:
        """Runtime settings: webhook readiness check on/off, TTL of tokens issued from now on, whether the
        webhook check may reach loopback/private hosts (the real one cannot), the opt-in strict parameter
        mode, and the read-after-write lag of updates in seconds. A reset restores the start config."""
        body = {
            k: v
            for k, v in {
                "webhook_check": webhook_check,
                "token_ttl": token_ttl,
                "webhook_timeout": webhook_timeout,
                "webhook_allow_loopback": webhook_allow_loopback,
                "strict": strict,
                "read_lag": read_lag,
            }.items()
            if v is not None
        }
        return self._call("POST", "/settings", body)

    def set_balance(
        self, value: float, *, auto_reload: bool = False, client_id: str | None = None
    ) -> dict[str, Any]:
        """Set an account's balance in EUR (every account when `client_id` is None). Without auto-reload
        purchases lower it and one it cannot pay is the API's 420 (no credit)."""
        return self._call(
            "POST", "/balance", {"value": value, "auto_reload": auto_reload, "client_id": client_id}
        )

    def seed_owned(
        self, n: int, client_id: str | None = None, country: str = "GB", configured: bool = True
    ) -> dict[str, Any]:
        """Give an account n more owned numbers at once (bulk range, cheap for 100,000)."""
        return self._call(
            "POST", "/owned", {"n": n, "client_id": client_id, "country": country, "configured": configured}
        )

    def owned(self, client_id: str | None = None) -> list[dict[str, Any]]:
        """Every owned number of the account, wire names, Vonage view (app_id and MMS included)."""
        return self._call("GET", "/owned", **({"client_id": client_id} if client_id else {}))

    def pool(self, country: str | None = None) -> list[dict[str, Any]]:
        """Available numbers (every type), for picking a number to buy in a test."""
        return self._call("GET", "/pool", **({"country": country} if country else {}))

    def webhook_url(self, name: str = "demo", ready_after: float = 2.0, status_until_ready: int = 503) -> str:
        """Arm demo webhook `name`: 503 until `ready_after` s from now, then 200. Returns its URL."""
        return self._call(
            "PUT", f"/webhooks/{name}", {"ready_after": ready_after, "status_until_ready": status_until_ready}
        )["url"]

    def webhooks(self) -> list[dict[str, Any]]:
        return self._call("GET", "/webhooks")

    def close(self) -> None:
        self._session.close()
