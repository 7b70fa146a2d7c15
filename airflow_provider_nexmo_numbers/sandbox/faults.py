"""Fault injection: gateway errors, latency, hangs, dropped connections after a commit, token revocation.

Faults come from two sources, checked in this order for every request:
1. a queue of deterministic one-shot faults (`queue_fault`), each for a given operation or any API operation;
2. probabilities (`set_faults`), drawn from `random.Random(seed)`: one draw per API request, so the same
   request sequence with the same seed fails the same way.
Probabilistic faults touch only the five API operations; queued faults may also target the token endpoint.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

from .config import FAULT_RATES, FaultSettings
from .stats import OPERATIONS, TOKEN, WRITE_OPERATIONS

log = logging.getLogger(__name__)

#: "taken": another customer buys the number between our search and our buy (the buy then gets the 420).
KINDS = ("status", "hang", "drop_after_commit", "revoke_token", "error_code", "taken")
CONTROL_KEY = "nexmo_sandbox.control"


@dataclass
class Fault:
    kind: str
    status: int | None = None
    retry_after: float | None = None
    seconds: float | None = None


@dataclass
class _Queued:
    fault: Fault
    operation: str | None
    remaining: int


class FaultInjector:
    def __init__(self) -> None:
        self._queue: list[_Queued] = []
        self._release: asyncio.Event | None = None
        self.configure()

    def configure(self, **settings: Any) -> dict[str, Any]:
        """Replace the probabilistic faults (`FaultSettings` names; a knob not given takes its default)."""
        given = FaultSettings(**settings)
        rates = {name: getattr(given, name) for name in FAULT_RATES}
        for name, value in rates.items():
            if not 0.0 <= float(value) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {value!r}")
        if sum(float(v) for v in rates.values()) > 1.0:
            raise ValueError("the fault rates together must not exceed 1")
        statuses = tuple(int(s) for s in given.error_statuses)
        if given.error_rate and not statuses:
            raise ValueError("error_statuses must not be empty when error_rate > 0")
        if any(not 400 <= s <= 599 for s in statuses):
            raise ValueError("error_statuses must be HTTP error statuses (400-599)")
        retry_after = float(given.retry_after)
        if not 0.0 <= retry_after <= 3600.0:
            raise ValueError(f"retry_after must be between 0 and 3600 seconds, got {given.retry_after!r}")
        numbers = {
            name: float(getattr(given, name))
            for name in (*FAULT_RATES, "retry_after", "latency_ms", "hang_seconds")
        }
        self.current = dataclasses.replace(given, error_statuses=statuses, **numbers)
        self._rng = random.Random(given.seed)
        return self.settings()

    def settings(self) -> dict[str, Any]:
        return {
            **self.current.to_dict(),
            "queued": [
                {
                    "kind": q.fault.kind,
                    "operation": q.operation,
                    "remaining": q.remaining,
                    "status": q.fault.status,
                    "retry_after": q.fault.retry_after,
                    "seconds": q.fault.seconds,
                }
                for q in self._queue
            ],
        }

    def queue(
        self,
        kind: str,
        operation: str | None = None,
        count: int = 1,
        status: int | None = None,
        retry_after: float | None = None,
        seconds: float | None = None,
    ) -> dict[str, Any]:
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
        if operation is not None and operation not in (*OPERATIONS, TOKEN):
            raise ValueError(
                f"operation must be None, 'token' or one of {', '.join(OPERATIONS)}; got {operation!r}"
            )
        if kind == "status" and (status is None or not 400 <= int(status) <= 599):
            raise ValueError("a 'status' fault needs status between 400 and 599")
        if kind == "error_code" and (status is None or int(status) == 200 or operation == TOKEN):
            raise ValueError("an 'error_code' fault needs status (the error-code, not 200), not the token")
        if kind == "taken" and operation != "POST /number/buy":
            raise ValueError("a 'taken' fault targets operation 'POST /number/buy'")
        if kind == "drop_after_commit" and operation == TOKEN:
            raise ValueError("drop_after_commit cannot target the token endpoint")
        if int(count) < 1:
            raise ValueError("count must be >= 1")
        fault = Fault(kind, int(status) if status is not None else None, retry_after, seconds)
        self._queue.append(_Queued(fault, operation, int(count)))
        return self.settings()

    def clear_queue(self) -> None:
        self._queue.clear()

    def next_fault(self, operation: str) -> Fault | None:
        """The fault for this request, if any (consumes a queued one or one random draw)."""
        for i, queued in enumerate(self._queue):
            target = queued.operation
            if target == operation or (target is None and operation != TOKEN):
                queued.remaining -= 1
                if queued.remaining <= 0:
                    del self._queue[i]
                return queued.fault
        now = self.current
        if operation == TOKEN or not any(getattr(now, name) for name in FAULT_RATES):
            return None
        r = self._rng.random()
        edge = now.hang_rate
        if r < edge:
            return Fault("hang", seconds=now.hang_seconds)
        edge += now.error_rate
        if r < edge:
            status = self._rng.choice(now.error_statuses)
            return Fault("status", status=status, retry_after=now.retry_after if status == 429 else None)
        edge += now.drop_after_commit_rate
        if r < edge:
            return Fault("drop_after_commit") if operation in WRITE_OPERATIONS else None
        edge += now.revoke_token_rate
        if r < edge:
            return Fault("revoke_token")
        return None

    async def hang(self, seconds: float) -> bool:
        """Sleep without blocking the server; True if it slept fully, False if a reset released it early."""
        if self._release is None:
            self._release = asyncio.Event()
        try:
            await asyncio.wait_for(self._release.wait(), timeout=seconds)
        except asyncio.TimeoutError:
            return True
        return False

    def release_hangs(self) -> None:
        if self._release is not None:
            self._release.set()
        self._release = None


ASGIApp = Callable[
    [MutableMapping[str, Any], Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]],
    Awaitable[None],
]


class DropConnectionMiddleware:
    """Outermost ASGI layer: lets a handler ask for the TCP connection to be cut instead of answered.

    A handler sets `scope[CONTROL_KEY]["drop"] = True` and returns any response; when that response starts,
    the transport of uvicorn's connection is aborted, so the client sees the connection close with no HTTP
    response at all (requests raises ConnectionError), after the handler has already committed its write.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        control: dict[str, Any] = {}
        scope[CONTROL_KEY] = control

        async def guarded_send(message: MutableMapping[str, Any]) -> None:
            if not control.get("drop"):
                await send(message)
                return
            if message["type"] == "http.response.start" and not control.get("dropped"):
                control["dropped"] = True
                transport = getattr(getattr(send, "__self__", None), "transport", None)
                if transport is None:  # not uvicorn: fail loudly rather than answer
                    raise ConnectionAbortedError("sandbox: dropping the connection after commit")
                transport.abort()
                for _ in range(3):  # let connection_lost run so uvicorn knows the peer is gone
                    await asyncio.sleep(0)

        await self.app(scope, receive, guarded_send)
