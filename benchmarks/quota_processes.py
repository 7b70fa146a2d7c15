"""Benchmark: 1, 2 and 4 processes sharing one client id's quota, with the client's default pacing.

The sandbox enforces R requests per second per client id (a fixed window, as Apigee's Quota policy) and
states it in the quota-* headers of every answer. Each process (a fresh `python -m
benchmarks.quota_processes --worker ...`) makes its own `NexmoNumbersClient` with default settings
(`rate_limit=None`: pacing learnt from the headers) and pages `pages` pages of 100 owned numbers; the
processes never talk to each other. They get their token first, then wait for a common start time.

Figures: total pages served, the sandbox's 429 count, and the wall time from the common start to the last
process's end beside the minimum `total pages / R` (ratio 1.0 = the whole quota used; target <= 1/0.95).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from typing import Any

from benchmarks.common import child_env

TARGET_RATIO = 1 / 0.95


def _worker(args: argparse.Namespace) -> None:
    from airflow_provider_nexmo_numbers.client import NexmoNumbersClient

    client = NexmoNumbersClient(
        args.client_id, args.client_secret, base_url=args.base_url, token_url=args.token_url
    )
    client.tokens.get_token()  # the grant is not under the quota; keep it out of the timing
    time.sleep(max(0.0, args.start - time.time()))
    started = time.time()
    read = 0
    for index in range(1, args.pages + 1):
        read += len(client.list_owned_numbers(size=100, index=index).numbers)
    ended = time.time()
    print(
        json.dumps(
            {
                "pages": args.pages,
                "numbers": read,
                "started": started,
                "ended": ended,
                "retries": client.stats["retries"],
                "consumers_estimate": round(client._limiter.consumers, 2),
            }
        )
    )
    client.close()


def shared(sb: Any, *, processes: int, rate: float, pages: int) -> dict[str, Any]:
    """`processes` workers of `pages` pages each against a quota of `rate` requests/s."""
    sb.admin.reset(owned_numbers=pages * 100)
    sb.admin.set_quota(rate)
    start = time.time() + 4.0 + processes  # time for every interpreter to start and get its token
    command = [sys.executable, "-m", "benchmarks.quota_processes", "--worker", "--base-url", sb.base_url,
               "--token-url", sb.token_url, "--client-id", sb.client_id, "--client-secret",
               sb.client_secret, "--pages", str(pages), "--start", repr(start)]  # fmt: skip
    children = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=child_env())
        for _ in range(processes)
    ]
    workers = []
    for child in children:
        out, err = child.communicate(timeout=600)
        if child.returncode != 0:
            raise RuntimeError(f"quota worker failed: {err.strip()[-2000:]}")
        workers.append(json.loads(out.strip().splitlines()[-1]))
    stats = sb.admin.stats()["requests"].get("GET /account/numbers", {})
    total = sum(w["pages"] for w in workers)
    wall = max(w["ended"] for w in workers) - min(w["started"] for w in workers)
    minimum = total / rate
    return {
        "processes": processes,
        "quota_rps": rate,
        "pages_total": total,
        "sandbox_200": stats.get("200", 0),
        "sandbox_429": stats.get("429", 0),
        "seconds": round(wall, 2),
        "minimum_seconds": round(minimum, 2),
        "ratio_to_minimum": round(wall / minimum, 3),
        "fraction_of_quota": round(minimum / wall, 3),
        "consumers_estimates": [w["consumers_estimate"] for w in workers],
        "passed": wall / minimum <= TARGET_RATIO and stats.get("429", 0) == 0,
    }


def run(
    sb: Any, *, rate: float, pages_total: int, counts: tuple[int, ...] = (1, 2, 4), log: Any = print
) -> dict:
    """The same total of pages split over 1, 2 and 4 processes."""
    results = []
    for processes in counts:
        one = shared(sb, processes=processes, rate=rate, pages=max(1, pages_total // processes))
        results.append(one)
        log(
            f"  {processes} process(es) sharing {rate:g} rps: {one['pages_total']} pages in "
            f"{one['seconds']} s = {one['ratio_to_minimum']:.3f}x pages/quota "
            f"({one['fraction_of_quota']:.1%} of the quota), {one['sandbox_429']} x 429"
        )
    sb.admin.set_quota(None)
    return {
        "target_ratio": round(TARGET_RATIO, 3),
        "runs": results,
        "passed": all(r["passed"] for r in results),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--worker", action="store_true")
    for name in ("--base-url", "--token-url", "--client-id", "--client-secret"):
        parser.add_argument(name)
    parser.add_argument("--pages", type=int, default=100)
    parser.add_argument("--start", type=float, default=0.0)
    args = parser.parse_args(argv)
    if args.worker:
        _worker(args)
        return 0
    from airflow_provider_nexmo_numbers.sandbox import SandboxConfig, run_sandbox_subprocess

    with run_sandbox_subprocess(SandboxConfig(owned_numbers=20_000)) as sb:
        print(json.dumps(run(sb, rate=10.0, pages_total=200), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
