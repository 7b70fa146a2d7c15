"""Client-side pacing: use the API quota, never exceed it, across processes that never talk to each other.

KPN's quotas are per project (client id) and unpublished, but the gateway (Apigee's Quota policy) states
them on every response: `quota-limit` requests per `quota-interval` x `quota-time-unit`, of which
`quota-used` are used in the current fixed window, which resets at `quota-reset-UTC`. Those counts are the
whole project's, so they already include every other worker using the same client id. By default
(`rate_limit=None`) the client paces from them alone:

- after each response, the `k` requests left in the window are spread evenly over the time left `T`
  (at most `PACING_HORIZON` seconds ahead, so a daily quota is not spread over a day): the next request
  waits `T * n / (k + 1)`, where `n` estimates how many consumers share the quota (how much `quota-used`
  grew between two of this client's own responses: 1 alone, ~2 when another process pages as fast). Every
  consumer following the same rule converges on an equal share of the whole quota;
- when the window is used up (`k <= 0`, a 200 that used the last request or a 429), nothing is sent before
  it resets;
- a gateway that sends no quota headers is learnt from its 429s: the rate that drew the 429 (measured over
  the last requests), less 10%, becomes a cap for this limiter's life.

`rate_limit=R > 0` adds a fixed cap of R requests per second on top; `rate_limit=0` disables all client-side
pacing (429s are still retried after their Retry-After). A wait longer than `LOG_WAIT_OVER` seconds is
logged with its cause; a wait that would outlast the call's time budget is not slept at all: the call
fails at once with `NexmoThrottledError`, saying what it waits for and until when.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from airflow_provider_nexmo_numbers.client.errors import NexmoThrottledError
from airflow_provider_nexmo_numbers.client.responses import parse_moment

__all__ = [
    "DEFAULT_RATE_LIMIT",
    "LOG_WAIT_OVER",
    "PACING_HORIZON",
    "QuotaReading",
    "RateLimiter",
    "read_quota",
]
log = logging.getLogger(__name__)

# None: no fixed cap, pace by the quota the API states (see the module docstring).
DEFAULT_RATE_LIMIT: float | None = None
PACING_HORIZON = 60.0
LOG_WAIT_OVER = 3.0
# Seconds per `quota-time-unit` (Apigee).
_QUOTA_UNITS = {"second": 1.0, "minute": 60.0, "hour": 3600.0, "day": 86400.0, "week": 604800.0}
# After a window's reset, a little slack for the gateway's clock being behind ours.
_RESET_MARGIN = 0.005
_LEARN_FRACTION = 0.9
# Windows up to this long are rates (requests per second or so), where `quota-used` on a first answer says
# how many consumers are active; in longer windows it is mostly history.
_SHORT_WINDOW = 10.0
_MIN_LEARNED_RATE = 0.1


@dataclass(frozen=True)
class QuotaReading:
    """What one response says about the project's quota. `reset_in` is capped to one window (a skewed
    clock cannot stall the client longer than the gateway's own window)."""

    limit: int
    used: int
    window: float
    reset_in: float
    reset_text: str

    @property
    def left(self) -> int:
        return self.limit - self.used

    def describe(self) -> str:
        return f"{self.limit} requests per {self.window:g} s"


def read_quota(headers: Mapping[str, Any], *, now: float | None = None) -> QuotaReading | None:
    """The quota headers of a response, or None when it carries no usable `quota-limit`/`quota-used`."""
    limit, used = headers.get("quota-limit"), headers.get("quota-used")
    if not limit or not used:
        return None
    try:
        limit_n, used_n = int(limit), int(used)
    except ValueError:
        return None
    if limit_n <= 0:
        return None
    window = 60.0
    unit = _QUOTA_UNITS.get(str(headers.get("quota-time-unit") or "").strip().lower())
    if unit is not None:
        with contextlib.suppress(TypeError, ValueError):
            interval = float(headers.get("quota-interval") or 1)
            if math.isfinite(interval) and interval > 0:
                window = interval * unit
    reset = headers.get("quota-reset-UTC")
    now = time.time() if now is None else now
    reset_in = parse_moment(str(reset), now) if reset else None
    reset_in = window if reset_in is None else min(reset_in, window)
    return QuotaReading(limit_n, used_n, window, reset_in, str(reset or ""))


def _utc(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


class RateLimiter:
    """Thread-safe pacing for one client: quota-aware (from `observe()`d responses) plus an optional
    fixed cap of `rate` requests per second (a token bucket of capacity `burst`).

    `rate=None` (default): quota pacing only; `rate > 0`: quota pacing capped at `rate`; `rate=0`:
    nothing at all. Each `acquire()` reserves the next free slot under a lock and sleeps outside it, so
    concurrent callers queue fairly. `clock` (monotonic), `wall_clock` (epoch, for `quota-reset-UTC`) and
    `sleep` are injectable so tests count waits instead of measuring them.
    """

    def __init__(
        self,
        rate: float | None = DEFAULT_RATE_LIMIT,
        *,
        burst: int = 1,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        if rate is not None and (
            isinstance(rate, bool) or not isinstance(rate, (int, float)) or not rate >= 0 or rate == math.inf
        ):
            raise ValueError(
                "rate_limit must be a number of requests per second >= 0 (0 disables, None follows the "
                f"API's quota), got {rate!r}"
            )
        if burst < 1:
            raise ValueError(f"burst must be >= 1, got {burst!r}")
        self.rate = float(rate) if rate else 0.0
        self.enabled = rate is None or rate > 0
        self.burst = burst
        self._clock = clock
        self._sleep = sleep
        self._wall_clock = wall_clock
        self._lock = threading.Lock()
        self._next_free: float | None = None  # the cap's theoretical arrival time
        self._not_before: float | None = None  # quota pacing: no request before this
        self._spacing = 0.0  # quota pacing: the current gap between two requests
        self._cause = ""
        self._consumers = 1.0  # estimated consumers of the quota (this client included)
        self._window: tuple[str, int] | None = None  # (reset, used) of the last reading
        self._learned = 0.0  # cap learnt from 429s without quota headers
        self._quota_rate = 0.0  # the stated quota in requests/s (whole project)
        self._sent: collections.deque[float] = collections.deque(maxlen=20)
        self.acquired = 0
        self.throttled = 0
        self.waited = 0.0

    @property
    def learned_rate(self) -> float | None:
        """The cap learnt from 429s of a gateway without quota headers, if any."""
        return self._learned or None

    @property
    def consumers(self) -> float:
        """How many consumers this client believes share the quota (from the growth of `quota-used`)."""
        return self._consumers

    @property
    def pace(self) -> float | None:
        """Requests per second this client can expect: its share of the stated quota (the quota divided by
        the consumers sharing it), capped by `rate` or a learnt cap; None when nothing is known yet."""
        if not self.enabled:
            return None
        rates = [
            r for r in (self._quota_rate / self._consumers if self._quota_rate else 0.0, self._cap()) if r
        ]
        return min(rates) if rates else None

    def _cap(self) -> float:
        caps = [c for c in (self.rate, self._learned) if c > 0]
        return min(caps) if caps else 0.0

    def acquire(self, max_wait: float | None = None, *, operation: str | None = None) -> float:
        """Block until a request may be sent; return the seconds waited. A wait longer than `max_wait`
        (what is left of the call's budget) is not slept: `NexmoThrottledError` says why and how long."""
        if not self.enabled:
            with self._lock:
                self.acquired += 1
            return 0.0
        with self._lock:
            now = self._clock()
            at, cause = now, ""
            cap = self._cap()
            tat = now
            if cap:
                interval = 1.0 / cap
                tat = now if self._next_free is None else max(self._next_free, now)
                at = tat - (self.burst - 1) * interval
                cause = f"the client-side rate limit of {cap:g} requests/s"
                if cap == self._learned:
                    cause = f"the rate learnt from the gateway's 429s ({cap:.3g} requests/s)"
            if self._not_before is not None and self._not_before > at:
                at, cause = self._not_before, self._cause
            delay = max(0.0, at - now)
            if max_wait is not None and delay > max_wait:
                raise NexmoThrottledError(
                    f"not sent: waiting {delay:.1f} s for {cause} would outlast this call's time budget "
                    f"({max(max_wait, 0.0):.1f} s left of max_retry_time)",
                    operation=operation,
                    retry_after=delay,
                )
            if cap:
                self._next_free = max(tat, at) + 1.0 / cap
            if self._spacing:
                self._not_before = max(at, self._not_before or at) + self._spacing
            self._sent.append(at)
            self.acquired += 1
            if delay > 0:
                self.throttled += 1
                self.waited += delay
        if delay > LOG_WAIT_OVER:
            log.warning("Waiting %.1f s before the next request: %s", delay, cause)
        if delay > 0:
            self._sleep(delay)
        return delay

    def observe(self, headers: Mapping[str, Any], status: int) -> None:
        """Learn from one response: its quota headers, or a 429 without them."""
        if not self.enabled:
            return
        reading = read_quota(headers, now=self._wall_clock())
        if reading is None:
            if status == 429:
                self._learn_from_429()
            return
        with self._lock:
            now = self._clock()
            window = (reading.reset_text, reading.used)
            if self._window is not None and self._window[0] == reading.reset_text:
                grown = reading.used - self._window[1]
                if grown > 0:  # up at once (never a 429), down smoothly (one quiet gap is no trend)
                    self._consumers = max(1.0, grown, 0.75 * self._consumers + 0.25 * grown)
            elif self._window is None and reading.window <= _SHORT_WINDOW:
                # The first answer cannot tell growth yet; in a short window, whoever used it so far is
                # likely still sending (processes started together): assume so until measured.
                self._consumers = max(self._consumers, float(reading.used))
            self._window = window
            self._quota_rate = reading.limit / reading.window
            if reading.left <= 0:
                self._spacing = 0.0
                self._not_before = now + reading.reset_in + _RESET_MARGIN
                self._cause = (
                    f"the API quota ({reading.describe()}) is used up until "
                    f"{_utc(self._wall_clock() + reading.reset_in)}"
                )
                return
            horizon = min(reading.reset_in, PACING_HORIZON)
            # A turn that falls past the reset starts the next window instead: a fresh window has room
            # for every consumer at once.
            self._spacing = min(
                horizon * self._consumers / (reading.left + 1), reading.reset_in + _RESET_MARGIN
            )
            self._not_before = max(self._not_before or now, now + self._spacing)
            self._cause = (
                f"pacing to the API quota ({reading.describe()}, {reading.left} left in this window, "
                f"~{self._consumers:.1f} consumers)"
            )

    def _learn_from_429(self) -> None:
        with self._lock:
            sent = list(self._sent)
            if len(sent) < 2 or sent[-1] <= sent[0]:
                return
            measured = (len(sent) - 1) / (sent[-1] - sent[0])
            learned = max(_MIN_LEARNED_RATE, _LEARN_FRACTION * measured)
            if self._learned and learned >= self._learned:
                return
            self._learned = learned
        log.warning(
            "The gateway answered 429 without quota headers at ~%.3g requests/s; pacing at %.3g requests/s",
            measured,
            learned,
        )
