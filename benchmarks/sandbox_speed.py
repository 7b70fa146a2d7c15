"""How fast the sandbox serves `GET /account/numbers` pages of 100: it must never be a benchmark's bottleneck.

Starts a sandbox (its own process by default, so client and server do not share a GIL) whose account owns
--owned numbers, fetches one token, then requests pages of 100 over one keep-alive `requests.Session` for
--seconds, cycling through every page. Prints one JSON object. Measured, not asserted.

    .venv/bin/python -m benchmarks.sandbox_speed [--seconds 5] [--owned 100000] [--in-process]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import requests

from airflow_provider_nexmo_numbers.sandbox import SandboxConfig, run_sandbox, run_sandbox_subprocess
from benchmarks.common import process_cpu_seconds


def bare_token(
    token_url: str, client_id: str, client_secret: str, session: requests.Session | None = None
) -> str:
    """One access token straight from the gateway, as a caller without the provider's client gets it: the
    benchmarks' floors must not pay for (or benefit from) our client."""
    response = (session or requests).post(
        token_url,
        params={"grant_type": "client_credentials"},
        data={"client_id": client_id, "client_secret": client_secret},
        timeout=10,
    )
    response.raise_for_status()
    return response.json()["access_token"]


def measure(base_url: str, token: str, owned: int, seconds: float) -> dict[str, float | int]:
    pages = max(1, (owned + 99) // 100)
    session = requests.Session()
    session.trust_env = False
    session.headers["Authorization"] = f"Bearer {token}"
    url = base_url + "/account/numbers"
    latencies: list[float] = []
    numbers = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        t0 = time.perf_counter()
        if t0 >= deadline:
            break
        response = session.get(url, params={"size": 100, "index": 1 + len(latencies) % pages}, timeout=10)
        response.raise_for_status()
        numbers += len(response.json().get("numbers", ()))
        latencies.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - start
    latencies.sort()
    return {
        "pages": len(latencies),
        "seconds": round(elapsed, 3),
        "pages_per_second": round(len(latencies) / elapsed, 1),
        "numbers_per_second": round(numbers / elapsed, 1),
        "latency_ms_p50": round(statistics.median(latencies) * 1000, 3),
        "latency_ms_p95": round(latencies[int(len(latencies) * 0.95) - 1] * 1000, 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="length of the measured run (default 5)")
    parser.add_argument("--owned", type=int, default=100_000, help="owned numbers (default 100000)")
    parser.add_argument("--in-process", action="store_true", help="run the sandbox in a thread here")
    args = parser.parse_args(argv)

    config = SandboxConfig(owned_numbers=args.owned)
    runner = run_sandbox if args.in_process else run_sandbox_subprocess
    with runner(config) as sb:
        token = bare_token(sb.token_url, sb.client_id, sb.client_secret)
        cpu_before = process_cpu_seconds(sb.pid) if not args.in_process and sb.pid else None
        measured = measure(sb.base_url, token, args.owned, args.seconds)
        cpu_after = process_cpu_seconds(sb.pid) if cpu_before is not None and sb.pid else None
        result = {
            "benchmark": "sandbox_speed",
            "mode": "in-process" if args.in_process else "subprocess",
            "owned": args.owned,
            "page_size": 100,
            "startup_seconds": round(sb.started_in, 3),
            **measured,
        }
        if cpu_before is not None and cpu_after is not None and cpu_after > cpu_before:
            per_page = (cpu_after - cpu_before) / measured["pages"]
            result["server_cpu_ms_per_page"] = round(per_page * 1000, 3)
            result["server_capacity_pages_per_second"] = round(1 / per_page, 1)
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
