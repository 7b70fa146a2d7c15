"""The rate limiter spaces requests; time is simulated, so the assertions count waits, not wall-clock."""

from __future__ import annotations

import threading

import pytest

from airflow_provider_nexmo_numbers.client import RateLimiter
from airflow_provider_nexmo_numbers.client.ratelimit import DEFAULT_RATE_LIMIT


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


def test_default_is_conservative():
    assert DEFAULT_RATE_LIMIT == 2.0
    assert RateLimiter().rate == 2.0


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


@pytest.mark.parametrize("rate", [0, None, 0.0])
def test_disabled(rate):
    clock = FakeClock()
    limiter = RateLimiter(rate, clock=clock, sleep=clock.sleep)
    assert not limiter.enabled
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


@pytest.mark.parametrize("rate", [-1, "fast", True])
def test_bad_rate(rate):
    with pytest.raises(ValueError, match="rate_limit"):
        RateLimiter(rate)


def test_pause_holds_the_next_request_until_the_quota_window_resets():
    clock = FakeClock()
    limiter = RateLimiter(10.0, clock=clock, sleep=clock.sleep)
    assert limiter.acquire() == 0.0
    limiter.pause(0.35)  # the gateway said: window used up, resets in 350 ms
    assert limiter.acquire() == pytest.approx(0.35)
    clock.now += 0.35
    assert limiter.acquire() == pytest.approx(0.1)  # spacing continues from the reset


def test_pause_never_shortens_the_spacing_and_is_ignored_when_disabled():
    clock = FakeClock()
    limiter = RateLimiter(2.0, clock=clock, sleep=clock.sleep)
    limiter.acquire()
    limiter.pause(0.1)
    assert limiter.acquire() == pytest.approx(0.5)
    off = RateLimiter(0, clock=clock, sleep=clock.sleep)
    off.pause(5.0)
    assert off.acquire() == 0.0
