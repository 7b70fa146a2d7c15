"""The rate limiter spaces requests and paces to the API's quota; time is simulated, so the assertions count
waits, not wall-clock."""

from __future__ import annotations

import threading

import pytest

from airflow_provider_nexmo_numbers.client import NexmoThrottledError, RateLimiter
from airflow_provider_nexmo_numbers.client.ratelimit import DEFAULT_RATE_LIMIT, read_quota


class FakeClock:
    def __init__(self):
        self.now = 1000.0
        self.sleeps: list[float] = []
        self.lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.sleeps.append(seconds)


def test_default_follows_the_quota_with_no_fixed_cap():
    assert DEFAULT_RATE_LIMIT is None
    limiter = RateLimiter()
    assert limiter.enabled
    assert limiter.rate == 0.0


def test_spaces_back_to_back_requests():
    clock = FakeClock()
    limiter = RateLimiter(4.0, clock=clock, sleep=clock.sleep)
    waits = [limiter.acquire() for _ in range(5)]
    assert waits == pytest.approx([0.0, 0.25, 0.5, 0.75, 1.0])
    assert (limiter.acquired, limiter.throttled) == (5, 4)


def test_no_wait_when_requests_are_slow_enough():
    clock = FakeClock()
    limiter = RateLimiter(2.0, clock=clock, sleep=clock.sleep)
    for _ in range(4):
        assert limiter.acquire() == 0.0
        clock.now += 0.6
    assert clock.sleeps == []


def test_burst():
    clock = FakeClock()
    limiter = RateLimiter(1.0, burst=3, clock=clock, sleep=clock.sleep)
    assert [limiter.acquire() for _ in range(4)] == pytest.approx([0.0, 0.0, 0.0, 1.0])


@pytest.mark.parametrize("rate", [0, 0.0])
def test_disabled(rate):
    clock = FakeClock()
    limiter = RateLimiter(rate, clock=clock, sleep=clock.sleep)
    assert not limiter.enabled
    limiter.observe(_quota(10, 10, reset_in=5.0, now=1e9), 200)  # ignored too
    assert all(limiter.acquire() == 0.0 for _ in range(100))
    assert clock.sleeps == []


def test_thread_safe_slots_are_unique():
    """Twenty threads at once get twenty distinct slots: 0, 0.1, ... 1.9 s, never the same one twice."""
    clock = FakeClock()
    limiter = RateLimiter(10.0, clock=clock, sleep=clock.sleep)
    threads = [threading.Thread(target=limiter.acquire) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(round(s, 6) for s in clock.sleeps) == [round(0.1 * n, 6) for n in range(1, 20)]


@pytest.mark.parametrize("rate", [-1, "fast", True, float("nan"), float("inf")])
def test_bad_rate(rate):
    with pytest.raises(ValueError, match="rate_limit"):
        RateLimiter(rate)


def _quota(limit, used, *, reset_in, now, interval="1", unit="second"):
    return {
        "quota-limit": str(limit),
        "quota-used": str(used),
        "quota-interval": interval,
        "quota-time-unit": unit,
        "quota-reset-UTC": str(int((now + reset_in) * 1000)),
    }


def test_read_quota():
    now = 1_700_000_000.0
    reading = read_quota(_quota(20, 20, reset_in=0.25, now=now), now=now)
    assert (reading.limit, reading.used, reading.left, reading.window) == (20, 20, 0, 1.0)
    assert reading.reset_in == pytest.approx(0.25, abs=0.002)
    far = read_quota(_quota(20, 3, reset_in=30, now=now), now=now)  # skewed clock: one window at most
    assert far.reset_in == 1.0
    day = read_quota(_quota(1000, 1000, reset_in=3 * 3600, now=now, unit="day"), now=now)
    assert (day.window, day.reset_in) == (86400.0, pytest.approx(3 * 3600, abs=0.01))
    assert read_quota({"quota-limit": "20", "quota-used": "x"}, now=now) is None
    assert read_quota({"quota-limit": "0", "quota-used": "1"}, now=now) is None
    assert read_quota({}, now=now) is None
    assert read_quota({"quota-limit": "20", "quota-used": "2"}, now=now).reset_in == 60.0  # no unit, no reset


class Gateway:
    """A fixed-window quota of `limit` per second shared by simulated consumers, on a shared fake clock."""

    def __init__(self, limit):
        self.limit = limit
        self.clock = FakeClock()
        self.windows: dict[int, int] = {}
        self.throttled = 0

    def request(self):
        now = self.clock.now
        window = int(now)
        used = self.windows[window] = self.windows.get(window, 0) + 1
        status = 200 if used <= self.limit else 429
        self.throttled += status == 429
        return _quota(self.limit, used, reset_in=window + 1 - now, now=now), status


def _run_consumers(gateway, count, seconds):
    """`count` limiters that never talk to each other, each asking for its next request as soon as its
    last answer arrived; the gateway sees the requests in time order."""
    limiters = [RateLimiter(None, clock=gateway.clock, sleep=lambda s: None, wall_clock=gateway.clock)
                for _ in range(count)]  # fmt: skip
    start = gateway.clock.now
    send_at = []
    for i, limiter in enumerate(limiters):
        gateway.clock.now = start + 0.001 * i
        send_at.append(gateway.clock.now + limiter.acquire())
    sent = 0
    while True:
        i = min(range(count), key=send_at.__getitem__)
        if send_at[i] >= start + seconds:
            return limiters, sent
        gateway.clock.now = send_at[i]
        headers, status = gateway.request()
        sent += 1
        gateway.clock.now += 0.002  # the round trip; other consumers' requests may arrive meanwhile
        limiters[i].observe(headers, status)
        send_at[i] = gateway.clock.now + limiters[i].acquire()
        gateway.clock.now = min(send_at)


@pytest.mark.parametrize("count", [1, 2, 4])
def test_consumers_sharing_one_quota_use_it_without_429(count):
    """Before: the limiter knew a fixed rate only (2/s by default), 20% of a 10/s quota; quota headers could
    only pause it once the window was used up."""
    gateway = Gateway(limit=20)
    gateway.clock.now = 1_700_000_000.0
    limiters, sent = _run_consumers(gateway, count, seconds=20)
    assert gateway.throttled == 0
    assert sent >= 0.95 * 20 * 20
    assert all(limiter.consumers == pytest.approx(count, rel=0.35) for limiter in limiters)


def test_a_used_up_daily_quota_fails_fast_beyond_the_budget():
    """Before: a 200 saying "used up" with quota-time-unit day paused the next request until the reset
    (hours), past any time budget."""
    clock = FakeClock()
    limiter = RateLimiter(None, clock=clock, sleep=clock.sleep, wall_clock=lambda: 1e9)
    limiter.acquire()
    limiter.observe(_quota(1000, 1000, reset_in=3 * 3600, now=1e9, unit="day"), 200)
    with pytest.raises(NexmoThrottledError, match=r"used up until 2001-09-09 04:46:40 UTC") as caught:
        limiter.acquire(5.0, operation="GET /account/numbers")
    assert caught.value.retry_after == pytest.approx(3 * 3600, abs=1)
    assert caught.value.operation == "GET /account/numbers"
    assert clock.sleeps == []  # nothing slept
    assert limiter.acquire(None) == pytest.approx(3 * 3600, abs=1)  # without a budget it would wait


def test_a_used_up_window_holds_the_next_request_until_its_reset():
    clock = FakeClock()
    limiter = RateLimiter(None, clock=clock, sleep=clock.sleep, wall_clock=lambda: 1e9)
    limiter.acquire()
    limiter.observe(_quota(20, 20, reset_in=0.35, now=1e9), 200)
    assert limiter.acquire(5.0) == pytest.approx(0.355, abs=0.002)


def test_429_without_quota_headers_teaches_a_cap():
    clock = FakeClock()
    limiter = RateLimiter(None, clock=clock, sleep=clock.sleep)
    for _ in range(10):
        limiter.acquire()
        clock.now += 0.05  # 20 requests/s
    limiter.observe({"Retry-After": "1"}, 429)
    assert limiter.learned_rate == pytest.approx(18.0, rel=0.01)
    limiter.acquire()
    assert limiter.acquire() == pytest.approx(1 / 18.0, rel=0.01)


def test_an_explicit_rate_still_caps_the_quota_pacing():
    clock = FakeClock()
    limiter = RateLimiter(2.0, clock=clock, sleep=clock.sleep, wall_clock=lambda: 1e9)
    limiter.acquire()
    limiter.observe(_quota(100, 1, reset_in=0.9, now=1e9), 200)  # the quota alone would allow ~0.009 s
    assert limiter.acquire() == pytest.approx(0.5)
