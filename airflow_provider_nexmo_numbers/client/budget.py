"""A hard time budget per call: one deadline for the requests, retries, waits and slow bodies of one call.

`requests`' read timeout is per socket read, not per response: a server that trickles one byte a second
never trips a 30 s read timeout and holds a call for as long as its body lasts. So every call of the client
(and its token grant) runs inside a `Budget` of `max_retry_time` seconds:

- each request's (connect, read) timeout is capped by what is left of the budget;
- the client's own sessions use `BudgetAdapter`, whose connections are watched from the moment a request
  is sent until its body is read: when the deadline passes, a watchdog thread shuts the socket down, which
  wakes the blocked read at once (headers or body, trickling or silent) and the call fails with
  `NexmoTimeoutError`;
- rate-limit and quota waits, and retry backoff, never sleep past the deadline (see `ratelimit`, `retry`).

A session passed in by the caller keeps its own adapters: there only the per-request timeouts are capped.
One watchdog thread serves the process (started on first use, restarted after a fork); arming it is a heap
push, so a call pays no thread start.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

__all__ = ["Budget", "BudgetAdapter", "active_budget"]

_local = threading.local()


class Budget:
    """`seconds` from now (monotonic clock) for everything one call does."""

    __slots__ = ("_watches", "deadline", "seconds")

    def __init__(self, seconds: float) -> None:
        self.seconds = float(seconds)
        self.deadline = time.monotonic() + self.seconds
        self._watches: list[list[Any]] = []

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    @property
    def expired(self) -> bool:
        return time.monotonic() >= self.deadline

    def timeout(self, timeout: tuple[float, float]) -> tuple[float, float]:
        """The (connect, read) timeout capped by what is left (never 0, which would mean "no wait")."""
        left = max(self.remaining(), 0.001)
        return min(timeout[0], left), min(timeout[1], left)

    @contextmanager
    def active(self) -> Iterator[Budget]:
        """Make this the budget of the requests sent by this thread until the block ends; on the way out
        every connection it watched is released (a finished answer's connection goes back to the pool)."""
        stack = _stack()
        stack.append(self)
        try:
            yield self
        finally:
            stack.pop()
            for watch in self._watches:
                watch[2] = None
            self._watches.clear()

    def watch(self, sock: socket.socket) -> None:
        self._watches.append(_WATCHDOG.arm(self.deadline, sock))


def _stack() -> list[Budget]:
    stack = getattr(_local, "stack", None)
    if stack is None:
        stack = _local.stack = []
    return stack


def active_budget() -> Budget | None:
    """The budget of the call this thread is running, if any."""
    stack = getattr(_local, "stack", None)
    return stack[-1] if stack else None


class _Watchdog:
    """Shuts watched sockets down at their deadline. Entries are [deadline, seq, socket]; a released
    entry has socket None and is dropped when its turn comes."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[list[Any]] = []
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None

    def arm(self, deadline: float, sock: socket.socket) -> list[Any]:
        entry = [deadline, next(self._seq), sock]
        with self._cond:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="nexmo-budget-watchdog", daemon=True)
                self._thread.start()
            heapq.heappush(self._heap, entry)
            if self._heap[0] is entry:
                self._cond.notify()
        return entry

    def _run(self) -> None:
        with self._cond:
            while True:
                while self._heap and self._heap[0][2] is None:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._cond.wait()
                    continue
                wait = self._heap[0][0] - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                sock = heapq.heappop(self._heap)[2]
                # The plain socket's shutdown, also for TLS: it wakes a recv blocked in another thread
                # (close() alone would not) and leaves the SSL object to the thread that owns it. An
                # already closed socket has nothing to wake.
                with contextlib.suppress(OSError):
                    socket.socket.shutdown(sock, socket.SHUT_RDWR)


_WATCHDOG = _Watchdog()


def _reset_after_fork() -> None:
    global _WATCHDOG
    _WATCHDOG = _Watchdog()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)


class _Watched:
    """Connection mixin: from the moment the request is sent, the socket is watched by the thread's
    budget, so reading the headers and the body cannot outlast it."""

    def getresponse(self, *args: Any, **kwargs: Any) -> Any:
        budget = active_budget()
        sock = getattr(self, "sock", None)
        if budget is not None and sock is not None:
            budget.watch(sock)
        return super().getresponse(*args, **kwargs)  # type: ignore[misc]


class _WatchedHTTPConnection(_Watched, HTTPConnection):
    pass


class _WatchedHTTPSConnection(_Watched, HTTPSConnection):
    pass


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class BudgetAdapter(HTTPAdapter):
    """An `HTTPAdapter` whose connections honour the active `Budget` (see the module docstring)."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}
