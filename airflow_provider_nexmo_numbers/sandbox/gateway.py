"""The KPN gateway in front of the API (Apigee): OAuth2 client-credentials tokens and a per-client quota.

Also the Vonage-direct credential check (api_key/api_secret in a Basic header, the query or the form body).
"""

from __future__ import annotations

import base64
import binascii
import math
import secrets
import string
import time
from collections.abc import Mapping
from dataclasses import dataclass

from .wire import FAULT_EXPIRED_TOKEN, FAULT_INVALID_TOKEN, FAULT_NO_TOKEN

_ALPHABET = string.ascii_letters + string.digits
API_PRODUCT = "Phone Numbers - Vonage"


@dataclass(slots=True)
class Token:
    access_token: str
    client_id: str
    issued_at: float
    expires_at: float
    revoked: bool = False

    def to_dict(self) -> dict[str, object]:
        return {
            "access_token": self.access_token,
            "client_id": self.client_id,
            "issued_at": self.issued_at,
            "expires_at": self.expires_at,
            "revoked": self.revoked,
        }


class TokenStore:
    """Issued bearer tokens. Expired ones are kept so that their 401 says "expired", as Apigee's does.

    Every token issued since the last `clear()` stays in `issued()`, revoked or not, so a test can search
    its logs for each one without hooking into the server.
    """

    def __init__(self, clients: Mapping[str, str], ttl: int) -> None:
        self.clients = dict(clients)
        self.ttl = ttl
        self._tokens: dict[str, Token] = {}  # the valid (not revoked) ones, expired included
        self._issued: list[Token] = []

    def check_credentials(self, client_id: str, client_secret: str) -> bool:
        expected = self.clients.get(client_id)
        return expected is not None and secrets.compare_digest(expected, client_secret)

    def issue(self, client_id: str) -> dict[str, object]:
        now = time.time()
        access_token = "".join(secrets.choice(_ALPHABET) for _ in range(28))
        token = Token(access_token, client_id, now, now + self.ttl)
        self._tokens[access_token] = token
        self._issued.append(token)
        return {
            "refresh_token_expires_in": "0",
            "api_product_list": f"[{API_PRODUCT}]",
            "api_product_list_json": [API_PRODUCT],
            "organization_name": "kpn",
            "developer.email": f"{client_id}@developers.example.com",
            "developer_email": f"{client_id}@developers.example.com",
            "token_type": "Bearer",
            "issued_at": str(int(now * 1000)),
            "client_id": client_id,
            "access_token": access_token,
            "application_name": f"sandbox-app-{client_id}",
            "scope": "",
            "expires_in": str(self.ttl),
            "refresh_count": "0",
            "status": "approved",
        }

    def verify(self, authorization: str | None) -> tuple[str | None, str | None, bytes | None]:
        """(client_id, token, None) for a valid bearer token, else (None, token, Apigee 401 fault body)."""
        if not authorization:
            return None, None, FAULT_NO_TOKEN
        scheme, _, value = authorization.partition(" ")
        value = value.strip()
        if scheme.lower() != "bearer" or not value:
            return None, None, FAULT_NO_TOKEN
        token = self._tokens.get(value)
        if token is None:
            return None, value, FAULT_INVALID_TOKEN
        if time.time() >= token.expires_at:
            return None, value, FAULT_EXPIRED_TOKEN
        return token.client_id, value, None

    def revoke(self, client_id: str | None = None, token: str | None = None) -> int:
        """Revoke one token, or every token of a client, or all tokens; returns how many."""
        if token is not None:
            doomed = [token] if token in self._tokens else []
        else:
            doomed = [t for t, i in self._tokens.items() if client_id is None or i.client_id == client_id]
        for t in doomed:
            self._tokens.pop(t).revoked = True
        return len(doomed)

    def issued(self) -> list[Token]:
        """Every token issued since the last `clear()` (reset), oldest first, revoked ones included."""
        return list(self._issued)

    def clear(self) -> None:
        self._tokens.clear()
        self._issued.clear()


class Quota:
    """Fixed-window request quota per client id (the identifier Apigee's Quota policy uses)."""

    def __init__(self, rps: float | None) -> None:
        self.set(rps)

    def set(self, rps: float | None) -> None:
        self.rps = rps
        if rps is None:
            self.limit, self.interval = 0, 1.0
        elif rps >= 1:
            self.limit, self.interval = int(rps), 1.0
        else:
            self.limit, self.interval = 1, 1.0 / rps
        self._windows: dict[str, tuple[float, int]] = {}

    def check(self, identifier: str) -> tuple[bool, dict[str, str]]:
        """Count one request; (allowed, quota headers). Rejected requests count as used, like Apigee's."""
        if self.rps is None:
            return True, {}
        now = time.time()
        start = math.floor(now / self.interval) * self.interval
        window_start, used = self._windows.get(identifier, (start, 0))
        if window_start != start:
            used = 0
        used += 1
        self._windows[identifier] = (start, used)
        reset = start + self.interval
        interval = str(int(self.interval)) if self.interval.is_integer() else f"{self.interval:g}"
        headers = {
            "quota-limit": str(self.limit),
            "quota-interval": interval,
            "quota-time-unit": "second",
            "quota-used": str(used),
            "quota-reset-UTC": str(int(reset * 1000)),
        }
        if used > self.limit:
            headers["Retry-After"] = str(max(1, math.ceil(reset - now)))
            return False, headers
        return True, headers


def basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    """(user, password) from an `Authorization: Basic ...` header, or None."""
    if not authorization:
        return None
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, sep, password = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (user, password) if sep else None
