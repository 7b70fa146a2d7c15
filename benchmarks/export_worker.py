"""One export measurement in a fresh process: wall time, RSS peak growth, optionally tracemalloc's peak.

Run by `benchmarks.export_throughput` (never by hand, though it works: see --help). A fresh process per
measurement keeps one run's allocations out of the next one's peak. Everything the measured code would import
lazily (client, hook, SQLite hook, pyarrow) is imported before the baseline is taken, so the figures are the
export's own cost, not import cost. The RSS high-water mark is then reset (/proc/self/clear_refs), so the peak
is the peak of the export alone.

Kinds:
- floor:   bare `requests` loop: keep-alive Session, token fetched once, every page of 100 fetched and
           discarded (the body is read, never parsed);
- client:  the hook's `iter_owned_numbers()` (client, paging, pydantic models) with every number discarded:
           splits an export's overhead into "reading the API" and "writing the rows";
- sqlite:  NexmoNumbersToSqlOperator.execute() into a SQLite file through an Airflow `sqlite` connection;
- parquet: NexmoNumbersToFileOperator.execute() into a local Parquet file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import math
import os
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from benchmarks.common import PAGE_SIZE, hwm_kb, reset_hwm, rss_kb, ru_maxrss_kb

NEXMO_CONN_ID = "nexmo_bench"
SQL_CONN_ID = "bench_sqlite"
RUN_ID = "scheduled__2024-05-01T00:00:00+00:00"
KINDS = ("floor", "client", "sqlite", "parquet")


def _context() -> dict[str, Any]:
    """The part of a task context the exports read (what a scheduled run provides)."""
    return {
        "run_id": RUN_ID,
        "ds": "2024-05-01",
        "logical_date": dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc),
    }


def _import_everything(kind: str) -> None:
    """What execute() would import lazily, loaded before the baseline so it is not counted."""
    import airflow.sdk

    import airflow_provider_nexmo_numbers.client
    import airflow_provider_nexmo_numbers.hooks.nexmo_numbers
    import airflow_provider_nexmo_numbers.transfers._atomic
    import airflow_provider_nexmo_numbers.transfers.to_file
    import airflow_provider_nexmo_numbers.transfers.to_sql  # noqa: F401

    if kind == "sqlite":
        import airflow.providers.sqlite.hooks.sqlite  # noqa: F401
    if kind == "parquet":
        import pyarrow.parquet  # noqa: F401


def _floor(args: argparse.Namespace) -> Callable[[], int]:
    def run() -> int:
        session = requests.Session()
        token = session.post(
            args.token_url,
            params={"grant_type": "client_credentials"},
            data={"client_id": args.client_id, "client_secret": args.client_secret},
            timeout=10,
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        url = args.base_url + "/account/numbers"
        for index in range(1, math.ceil(args.expect / PAGE_SIZE) + 1):
            response = session.get(
                url, params={"index": index, "size": PAGE_SIZE}, headers=headers, timeout=30
            )
            response.raise_for_status()
            response.content  # noqa: B018  (read the body, then discard it)
        session.close()
        return args.expect

    return run


def _client(args: argparse.Namespace) -> Callable[[], int]:
    from airflow_provider_nexmo_numbers.hooks.nexmo_numbers import NexmoNumbersHook

    hook = NexmoNumbersHook(nexmo_conn_id=NEXMO_CONN_ID)

    def run() -> int:
        rows = sum(1 for _ in hook.iter_owned_numbers(page_size=PAGE_SIZE))
        hook.close()
        return rows

    return run


def _sqlite(args: argparse.Namespace) -> Callable[[], int]:
    from airflow_provider_nexmo_numbers.transfers.to_sql import NexmoNumbersToSqlOperator

    # Built before the clock starts: constructing an operator is DAG-parse work, not export work.
    op = NexmoNumbersToSqlOperator(
        task_id="export_sql", sql_conn_id=SQL_CONN_ID, nexmo_conn_id=NEXMO_CONN_ID, progress_interval=3600
    )
    return lambda: op.execute(_context())["rows"]


def _parquet(args: argparse.Namespace) -> Callable[[], int]:
    from airflow_provider_nexmo_numbers.transfers.to_file import NexmoNumbersToFileOperator

    op = NexmoNumbersToFileOperator(
        task_id="export_file",
        path=str(Path(args.workdir) / "numbers.parquet"),
        nexmo_conn_id=NEXMO_CONN_ID,
        progress_interval=3600,
    )
    return lambda: op.execute(_context())["rows"]


def _verify(kind: str, workdir: Path) -> int | None:
    """Rows actually written (read back after the clock stopped)."""
    if kind == "sqlite":
        import sqlite3

        with sqlite3.connect(workdir / "export.db") as db:
            return db.execute("SELECT COUNT(*) FROM nexmo_owned_numbers").fetchone()[0]
    if kind == "parquet":
        import pyarrow.parquet as pq

        return pq.read_metadata(workdir / "numbers.parquet").num_rows
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="one export measurement (used by benchmarks.run)")
    parser.add_argument("kind", choices=KINDS)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--token-url", required=True)
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--client-secret", required=True)
    parser.add_argument("--expect", type=int, required=True, help="owned numbers in the account")
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--tracemalloc", action="store_true", help="also trace Python allocations (slower)")
    parser.add_argument("--out", required=True, help="JSON result file")
    args = parser.parse_args(argv)
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)

    os.environ["AIRFLOW_CONN_" + NEXMO_CONN_ID.upper()] = json.dumps(
        {
            "conn_type": "nexmo_numbers",
            "host": args.base_url,
            "login": args.client_id,
            "password": args.client_secret,
            # No client-side rate limit: this measures throughput against the bare loop, which has none.
            "extra": {"token_url": args.token_url, "rate_limit": 0, "timeout": 30, "max_retries": 3},
        }
    )
    os.environ["AIRFLOW_CONN_" + SQL_CONN_ID.upper()] = json.dumps(
        {"conn_type": "sqlite", "host": str(workdir / "export.db")}
    )
    _import_everything(args.kind)
    run = {"floor": _floor, "client": _client, "sqlite": _sqlite, "parquet": _parquet}[args.kind](args)

    gc.collect()
    hwm_reset = reset_hwm()
    baseline_rss = rss_kb()
    baseline_maxrss = ru_maxrss_kb()
    if args.tracemalloc:
        tracemalloc.start()
    t0 = time.perf_counter()
    cpu0 = time.process_time()
    rows = run()
    cpu = time.process_time() - cpu0
    seconds = time.perf_counter() - t0
    traced_peak = None
    if args.tracemalloc:
        traced_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    peak_hwm = hwm_kb()
    peak_maxrss = ru_maxrss_kb()

    result = {
        "kind": args.kind,
        "owned": args.expect,
        "rows": rows,
        "rows_read_back": _verify(args.kind, workdir),
        "seconds": round(seconds, 3),
        "cpu_seconds": round(cpu, 3),
        "tracemalloc": args.tracemalloc,
        "baseline_rss_mb": None if baseline_rss is None else round(baseline_rss / 1024, 1),
        # Peak RSS during the export minus RSS just before it (the high-water mark was reset at that point).
        "rss_growth_mb": None
        if not hwm_reset or peak_hwm is None or baseline_rss is None
        else round((peak_hwm - baseline_rss) / 1024, 1),
        # getrusage's lifetime high-water mark, before and after; equal when the imports peaked higher.
        "ru_maxrss_growth_mb": round((peak_maxrss - baseline_maxrss) / 1024, 1),
        "tracemalloc_peak_mb": None if traced_peak is None else round(traced_peak / 2**20, 1),
    }
    Path(args.out).write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
