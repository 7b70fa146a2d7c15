"""How fast the sandbox serves `GET /account/numbers` pages of 100: it must never be a benchmark's bottleneck.

Starts a sandbox (its own process by default, so client and server do not share a GIL) whose account owns
--owned numbers, fetches one token, then requests pages of 100 over one keep-alive `requests.Session` for
--seconds, cycling through every page. Prints one JSON object. Measured, not asserted.

    .venv/bin/python benchmarks/sandbox_speed.py [--seconds 5] [--owned 100000] [--in-process]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import requests

from airflow_provider_nexmo_numbers.sandbox import SandboxConfig, run_sandbox, run_sandbox_subprocess


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
        token = requests.post(
            sb.token_url,
            params={"grant_type": "client_credentials"},
            data={"client_id": sb.client_id, "client_secret": sb.client_secret},
            timeout=10,
        ).json()["access_token"]
        result = {
            "benchmark": "sandbox_speed",
            "mode": "in-process" if args.in_process else "subprocess",
            "owned": args.owned,
            "page_size": 100,
            "startup_seconds": round(sb.started_in, 3),
            **measure(sb.base_url, token, args.owned, args.seconds),
        }
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
