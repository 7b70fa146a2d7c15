"""Client-side rate limiting: space requests so one client never exceeds `rate` requests per second.

KPN's quotas are per project and unpublished and Vonage's own SDK throttles this API at 1 request/second,
so the client throttles itself rather than learning the limit from 429s. Spacing alone is not a guarantee
against a gateway that counts per fixed window (Apigee's Quota policy): a request delayed across a window
boundary makes R+1 in that window. So when the gateway says the window's quota is used up (`quota-used` >=
`quota-limit`, see `responses.quota_pause`), `pause()` holds the next request until the window resets.
The default of 2.0
requests/second (`DEFAULT_RATE_LIMIT`) is conservative: paging 1,000 numbers at size 100 takes 10
requests, i.e. ~5 s. Across several Airflow workers the bound is per process; use an Airflow pool to bound
concurrency across workers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["DEFAULT_RATE_LIMIT", "RateLimiter"]
DEFAULT_RATE_LIMIT = 2.0


class RateLimiter:
    """Thread-safe interval limiter (a token bucket of capacity `burst`) for `rate` requests per second.

    `rate` of 0 or None disables limiting. Each `acquire()` reserves the next free slot under a lock and
    sleeps outside it, so concurrent callers queue fairly and never sleep while holding the lock. `clock`
    and `sleep` are injectable so tests count waits instead of measuring wall-clock time.
    """

    def __init__(
        self,
        rate: float | None = DEFAULT_RATE_LIMIT,
        *,
        burst: int = 1,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate is not None and (isinstance(rate, bool) or not isinstance(rate, (int, float)) or rate < 0):
            raise ValueError(
                f"rate_limit must be a number of requests per second >= 0 (0 disables), got {rate!r}"
            )
        if burst < 1:
            raise ValueError(f"burst must be >= 1, got {burst!r}")
        self.rate = float(rate) if rate else 0.0
        self.burst = burst
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next_free: float | None = None  # earliest time the bucket is full again ("theoretical arrival")
        self._resume_at: float | None = None  # no request before this (the server's quota window resets)
        self.acquired = 0
        self.throttled = 0
        self.waited = 0.0

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def acquire(self) -> float:
        """Block until a request may be sent; return the seconds waited."""
        if not self.enabled:
            with self._lock:
                self.acquired += 1
            return 0.0
        interval = 1.0 / self.rate
        with self._lock:
            now = self._clock()
            tat = now if self._next_free is None else max(self._next_free, now)
            if self._resume_at is not None:
                tat = max(tat, self._resume_at + (self.burst - 1) * interval)
                self._resume_at = None
            # Generic cell rate algorithm: allowed when the theoretical arrival time is within the burst
            # window.
            allowed_at = tat - (self.burst - 1) * interval
            delay = max(0.0, allowed_at - now)
            self._next_free = tat + interval
            self.acquired += 1
            if delay > 0:
                self.throttled += 1
                self.waited += delay
        if delay > 0:
            self._sleep(delay)
        return delay

    def pause(self, seconds: float) -> None:
        """Send nothing for `seconds` from now (the server's quota window is used up until then); the
        spacing of later requests continues from there. Ignored when limiting is disabled."""
        if not self.enabled or seconds <= 0:
            return
        with self._lock:
            resume_at = self._clock() + seconds
            if self._resume_at is None or resume_at > self._resume_at:
                self._resume_at = resume_at
