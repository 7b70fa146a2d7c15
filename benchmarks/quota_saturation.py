"""Benchmark 4, quota saturation: a long listing against a gateway quota of R requests/second per client id.

The sandbox enforces R requests per client id per fixed one-second window (Apigee's Quota policy); the
client's own limiter is set to the same R. A well-behaved client gets close to R (target >= 0.9 R) and is
never answered 429 (each 429 also costs a Retry-After wait of >= 1 s).

Besides the sandbox's counters, every response's arrival time is recorded through a `requests` response hook
on a session handed to the client (the client's own public `session=` argument), so that the requests per
calendar second - the sandbox's window - can be shown when a 429 needs explaining.
"""

from __future__ import annotations

import itertools
import math
import time
from collections import Counter
from typing import Any

import requests
from requests.adapters import HTTPAdapter

TARGET_FRACTION = 0.9


def _session(log_to: list[tuple[float, int, str]]) -> requests.Session:
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=0)  # as the client's own session: retries are the client's
    session.mount("http://", adapter)

    def record(response: requests.Response, *args: Any, **kwargs: Any) -> None:
        log_to.append((time.time(), response.status_code, response.request.path_url.split("?")[0]))

    session.hooks["response"].append(record)
    return session


def _start_at_phase(offset_ms: float) -> None:
    """Sleep until `offset_ms` before the next whole second of time.time() (the sandbox's window clock)."""
    now = time.time()
    target = math.floor(now) + 1 - offset_ms / 1000.0
    if target - now < 0.2:
        target += 1
    time.sleep(max(0.0, target - time.time() - 0.002))
    while time.time() < target:  # the last 2 ms spinning: sleep is not that precise
        pass


def listing(
    sb: Any, *, rate: float, client_rate: float, pages: int, phase_ms: float | None = None
) -> dict[str, Any]:
    """Page through `pages` pages of 100 with the sandbox quota at `rate` and the client limiter at
    `client_rate`; return what both sides saw. `phase_ms` starts the listing that many milliseconds before
    a window boundary (diagnosis: the client spaces requests exactly 1/rate apart, so every later request
    keeps that phase)."""
    from airflow_provider_nexmo_numbers.client import NexmoNumbersClient

    sb.admin.reset(owned_numbers=max(100_000, pages * 100))
    sb.admin.set_quota(rate)
    responses: list[tuple[float, int, str]] = []
    session = _session(responses)
    client = NexmoNumbersClient(
        sb.client_id,
        sb.client_secret,
        base_url=sb.base_url,
        token_url=sb.token_url,
        rate_limit=client_rate,
        session=session,
        share_tokens=False,  # each run follows a sandbox reset, which drops any token a shared slot keeps
    )
    client.tokens.get_token()  # the grant is not under the quota; keep it out of the timing
    if phase_ms is not None:
        _start_at_phase(phase_ms)
    t0 = time.perf_counter()
    numbers = sum(1 for _ in itertools.islice(client.iter_owned_numbers(page_size=100), pages * 100))
    seconds = time.perf_counter() - t0
    client_stats = client.stats
    client.close()
    stats = sb.admin.stats()["requests"].get("GET /account/numbers", {})
    ok, throttled = stats.get("200", 0), stats.get("429", 0)

    api = [(t, status) for t, status, path in responses if path.endswith("/account/numbers")]
    per_second = Counter(int(t) for t, _ in api)
    full_seconds = sorted(per_second.items())[1:-1]  # the first and last windows are partial
    throttled_windows = sorted({int(t) for t, status in api if status == 429})
    achieved = ok / seconds
    return {
        "quota_rps": rate,
        "client_rate_limit": client_rate,
        "phase_ms": phase_ms,
        "pages": pages,
        "numbers": numbers,
        "seconds": round(seconds, 2),
        "sandbox_200": ok,
        "sandbox_429": throttled,
        "client_retries": client_stats["retries"],
        "achieved_rps": round(achieved, 2),
        "fraction_of_quota": round(achieved / rate, 3),
        # Requests per calendar second as the client saw the answers arrive (the sandbox's window).
        "requests_per_window_max": max((n for _, n in full_seconds), default=0),
        "requests_per_window_histogram": dict(sorted(Counter(n for _, n in full_seconds).items())),
        "windows_with_429": len(throttled_windows),
        "passed": achieved / rate >= TARGET_FRACTION and throttled == 0,
    }


def _line(result: dict[str, Any]) -> str:
    phase = "" if result["phase_ms"] is None else f", started {result['phase_ms']:g} ms before a window"
    return (
        f"  quota {result['quota_rps']:g} rps, client limit {result['client_rate_limit']:g}{phase}: "
        f"{result['achieved_rps']} rps ({result['fraction_of_quota']:.0%}), {result['sandbox_429']} x 429 "
        f"in {result['seconds']} s"
    )


def run(
    sb: Any,
    *,
    rate: float,
    pages: int,
    phases_ms: tuple[float, ...] = (),
    phase_pages: int = 100,
    log: Any = print,
) -> dict[str, Any]:
    """The judged run (random phase), then optional diagnosis runs started at chosen phases."""
    result = listing(sb, rate=rate, client_rate=rate, pages=pages)
    result["target_fraction"] = TARGET_FRACTION
    log(_line(result))
    if phases_ms:
        sweep = []
        for phase in phases_ms:
            for client_rate in (rate, rate * 0.95):
                one = listing(sb, rate=rate, client_rate=client_rate, pages=phase_pages, phase_ms=phase)
                sweep.append({k: v for k, v in one.items() if k != "passed"})
                log(_line(one))
        result["phase_sweep"] = sweep
    return result
