"""Benchmark 3, export throughput and memory: 10k and 100k owned numbers into SQLite and Parquet.

The yardstick is the floor: a bare `requests` loop fetching the same pages from the same sandbox and
discarding them (see export_worker). Each export's wall time is divided by the floor's of the same round,
taken minutes apart at most, so machine load drifts alike for both; rounds alternate their order and the
median ratio is reported. Every measurement is a fresh process (export_worker), so memory peaks never mix.
The sandbox runs in its own process, reset to the account size before each measurement.

Targets: ratio <= 1.25; RSS peak growth <= 64 MB at any size (10k vs 100k shows whether memory grows with
the account).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import ROOT, child_env, load_average, median

TARGET_RATIO = 1.25
TARGET_GROWTH_MB = 64.0
EXPORTS = ("sqlite", "parquet")
# "client" (read and model every number, write nothing) is not judged; it splits the overhead.
KINDS = ("floor", "client", *EXPORTS)


def _measure(sb: Any, kind: str, owned: int, *, trace: bool = False, timeout: float = 600) -> dict[str, Any]:
    sb.admin.reset(owned_numbers=owned)
    with tempfile.TemporaryDirectory(prefix=f"nexmo-bench-{kind}-") as workdir:
        out = Path(workdir) / "result.json"
        cmd = [
            sys.executable,
            "-m",
            "benchmarks.export_worker",
            kind,
            "--base-url",
            sb.base_url,
            "--token-url",
            sb.token_url,
            "--client-id",
            sb.client_id,
            "--client-secret",
            sb.client_secret,
            "--expect",
            str(owned),
            "--workdir",
            str(Path(workdir) / "data"),
            "--out",
            str(out),
        ]
        if trace:
            cmd.append("--tracemalloc")
        done = subprocess.run(
            cmd, cwd=ROOT, env=child_env(), capture_output=True, text=True, timeout=timeout, check=False
        )
        if done.returncode != 0 or not out.exists():
            raise RuntimeError(f"export worker {kind} ({owned}) failed: {done.stderr[-3000:]}")
        result = json.loads(out.read_text())
    stats = sb.admin.stats()
    listing = stats["requests"].get("GET /account/numbers", {})
    result["sandbox_pages_200"] = listing.get("200", 0)
    result["sandbox_other_statuses"] = {k: v for k, v in listing.items() if k != "200"}
    result["sandbox_tokens_issued"] = stats["tokens_issued"]
    result["load"] = load_average()
    return result


def run(sb: Any, *, sizes: tuple[int, ...], rounds: int, trace: bool, log: Any = print) -> dict[str, Any]:
    """`rounds` interleaved rounds of every kind per size, then (if `trace`) a tracemalloc run per export."""
    started = time.perf_counter()
    per_size: dict[str, Any] = {}
    for owned in sizes:
        samples: dict[str, list[dict[str, Any]]] = {kind: [] for kind in KINDS}
        ratios: dict[str, list[float]] = {kind: [] for kind in KINDS if kind != "floor"}
        for round_no in range(rounds):
            order = KINDS if round_no % 2 == 0 else tuple(reversed(KINDS))
            seconds: dict[str, float] = {}
            for kind in order:
                result = _measure(sb, kind, owned)
                samples[kind].append(result)
                seconds[kind] = result["seconds"]
                log(
                    f"  {owned:>7,} {kind:<8} {result['seconds']:7.2f} s  "
                    f"cpu {result['cpu_seconds']:6.2f} s  rss +{result['rss_growth_mb']} MB  "
                    f"load {result['load']}"
                )
            for kind in ratios:
                ratios[kind].append(round(seconds[kind] / seconds["floor"], 3))
        figures: dict[str, Any] = {}
        for kind in KINDS:
            runs = samples[kind]
            figures[kind] = {
                "seconds_median": round(median([r["seconds"] for r in runs]), 3),
                "cpu_seconds_median": round(median([r["cpu_seconds"] for r in runs]), 3),
                "numbers_per_second": round(owned / median([r["seconds"] for r in runs])),
                "rss_growth_mb_max": max(r["rss_growth_mb"] or 0.0 for r in runs),
                "ru_maxrss_growth_mb_max": max(r["ru_maxrss_growth_mb"] for r in runs),
                "baseline_rss_mb": runs[0]["baseline_rss_mb"],
                "rows_ok": all(r["rows"] == owned and r["rows_read_back"] in (None, owned) for r in runs),
                "pages_per_run": runs[0]["sandbox_pages_200"],
                "runs": runs,
            }
            if kind in ratios:
                figures[kind]["ratio_to_floor"] = ratios[kind]
                figures[kind]["ratio_to_floor_median"] = round(median(ratios[kind]), 3)
        if trace:
            for kind in EXPORTS:
                traced = _measure(sb, kind, owned, trace=True)
                figures[kind]["tracemalloc_peak_mb"] = traced["tracemalloc_peak_mb"]
                figures[kind]["tracemalloc_run"] = traced
                log(f"  {owned:>7,} {kind:<8} tracemalloc peak {traced['tracemalloc_peak_mb']} MB")
        per_size[str(owned)] = figures

    largest = per_size[str(max(sizes))]
    worst_ratio = max(largest[kind]["ratio_to_floor_median"] for kind in EXPORTS)
    worst_growth = max(per_size[s][k]["rss_growth_mb_max"] for s in per_size for k in EXPORTS)
    rows_ok = all(per_size[s][k]["rows_ok"] for s in per_size for k in KINDS)
    return {
        "target_ratio": TARGET_RATIO,
        "target_growth_mb": TARGET_GROWTH_MB,
        "sizes": list(sizes),
        "rounds": rounds,
        "page_size": 100,
        "client_rate_limit": 0,
        "sizes_figures": per_size,
        "worst_ratio_at_largest": worst_ratio,
        "worst_rss_growth_mb": worst_growth,
        "rows_ok": rows_ok,
        "ratio_passed": worst_ratio <= TARGET_RATIO,
        "memory_passed": worst_growth <= TARGET_GROWTH_MB,
        "passed": worst_ratio <= TARGET_RATIO and worst_growth <= TARGET_GROWTH_MB and rows_ok,
        "seconds": round(time.perf_counter() - started, 1),
    }
