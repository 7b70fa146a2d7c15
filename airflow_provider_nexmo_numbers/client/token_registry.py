"""One cached OAuth2 token per set of credentials per process, shared by every client that uses them.

Airflow builds a hook, and so a client, per task; `dag.test()` runs every task of a DAG in one process, and
a worker process may run several hooks. Without sharing, each client asked for its own token (15 tasks, 15
grants) although one token serves the whole process for its lifetime. Clients created with
`share_tokens=True` (the default) take their token slot from this registry, keyed by the token URL, the
client id and a salted SHA-256 fingerprint of the client secret: the secret itself is never a key, so it
cannot surface from a dump of the registry, and a changed secret gets its own slot (old tokens keep
working until they expire, new clients use the new credentials).

A slot is only state (the token, when it was obtained, its lifetime) plus the lock that makes one grant
serve every waiting thread; each client's `TokenSource` still grants with its own session, timeout and TLS
settings and tells its own `on_token` callback about every token it uses. After `os.fork()` the child
starts with an empty registry: a lock held by another thread at fork time would never be released there,
and a process gets its own token anyway.
"""

from __future__ import annotations

import hashlib
import os
import threading

__all__ = ["TokenRegistry", "TokenSlot", "clear_shared_tokens", "shared_token_slot"]


class TokenSlot:
    """The cached token of one set of credentials, and the lock under which it is read or renewed."""

    __slots__ = ("lifetime", "lock", "obtained_at", "token")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.token: str | None = None
        self.obtained_at = 0.0  # clock reading taken just before the grant was requested
        self.lifetime: float | None = None

    def __repr__(self) -> str:  # never the token
        return f"TokenSlot(cached={self.token is not None}, lifetime={self.lifetime!r})"


class TokenRegistry:
    """Thread-safe map of (token URL, client id, secret fingerprint) -> `TokenSlot`."""

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self._slots: dict[tuple[str, str, str], TokenSlot] = {}
        # Per-process salt: fingerprints are not comparable across processes or with a plain SHA-256.
        self._salt = os.urandom(16)

    def _fingerprint(self, client_secret: str) -> str:
        return hashlib.sha256(self._salt + client_secret.encode("utf-8")).hexdigest()

    def slot(self, token_url: str, client_id: str, client_secret: str) -> TokenSlot:
        """The slot of these credentials, created on first use."""
        key = (token_url, client_id, self._fingerprint(client_secret))
        with self._lock:
            slot = self._slots.get(key)
            if slot is None:
                slot = self._slots[key] = TokenSlot()
            return slot

    def clear(self) -> None:
        """Forget every cached token: the next `get_token()` of any client, old or new, grants anew."""
        with self._lock:
            for slot in self._slots.values():
                slot.token = None
            self._slots.clear()

    def __len__(self) -> int:
        return len(self._slots)


_PROCESS_TOKENS = TokenRegistry()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_PROCESS_TOKENS._reset)


def shared_token_slot(token_url: str, client_id: str, client_secret: str) -> TokenSlot:
    """This process's token slot for these credentials."""
    return _PROCESS_TOKENS.slot(token_url, client_id, client_secret)


def clear_shared_tokens() -> None:
    """Drop every token shared in this process (tests that reset the token server between cases)."""
    _PROCESS_TOKENS.clear()
