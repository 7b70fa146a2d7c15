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
- sqlite+readahead, parquet+readahead (diagnosis only, `benchmarks.run --diagnose`): the same operators
           with their hook wrapped so that page n+1 is fetched on a thread while page n is written. Not
           provider code: it measures what a read-ahead in the export's page source would gain.
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
from benchmarks.sandbox_speed import bare_token

NEXMO_CONN_ID = "nexmo_bench"
SQL_CONN_ID = "bench_sqlite"
RUN_ID = "scheduled__2024-05-01T00:00:00+00:00"
KINDS = ("floor", "client", "sqlite", "parquet", "sqlite+readahead", "parquet+readahead")


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

    if kind.startswith("sqlite"):
        import airflow.providers.sqlite.hooks.sqlite  # noqa: F401
    if kind.startswith("parquet"):
        import pyarrow.parquet  # noqa: F401


def _floor(args: argparse.Namespace) -> Callable[[], int]:
    def run() -> int:
        session = requests.Session()
        token = bare_token(args.token_url, args.client_id, args.client_secret, session)
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


def _sql_operator(args: argparse.Namespace) -> Any:
    from airflow_provider_nexmo_numbers.transfers.to_sql import NexmoNumbersToSqlOperator

    return NexmoNumbersToSqlOperator(
        task_id="export_sql", sql_conn_id=SQL_CONN_ID, nexmo_conn_id=NEXMO_CONN_ID, progress_interval=3600
    )


def _file_operator(args: argparse.Namespace) -> Any:
    from airflow_provider_nexmo_numbers.transfers.to_file import NexmoNumbersToFileOperator

    return NexmoNumbersToFileOperator(
        task_id="export_file",
        path=str(Path(args.workdir) / "numbers.parquet"),
        nexmo_conn_id=NEXMO_CONN_ID,
        progress_interval=3600,
    )


def _operator(make: Callable[[argparse.Namespace], Any]) -> Callable[[argparse.Namespace], Callable[[], int]]:
    def prepare(args: argparse.Namespace) -> Callable[[], int]:
        op = make(args)  # built before the clock starts: constructing an operator is DAG-parse work
        return lambda: op.execute(_context())["rows"]

    return prepare


class ReadAheadHook:
    """Diagnostic stand-in for NexmoNumbersHook in an export: `list_owned_numbers(index=n)` also starts
    fetching page n+1 on one background thread, so the API round trip overlaps the writing of page n.
    Every request still goes through the real hook and client, one at a time, from that one thread."""

    def __init__(self, hook: Any) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self._hook = hook
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="readahead")
        self._next: tuple[tuple[int, int], Any] | None = None

    def _submit(self, index: int, size: int) -> Any:
        return self._pool.submit(self._hook.list_owned_numbers, size=size, index=index)

    def list_owned_numbers(self, *, size: int = 10, index: int = 1, **kwargs: Any) -> Any:
        if kwargs:
            return self._hook.list_owned_numbers(size=size, index=index, **kwargs)
        if self._next is not None and self._next[0] == (index, size):
            future = self._next[1]
        else:
            future = self._submit(index, size)
        page = future.result()
        more = bool(page.numbers) and index * size < page.count
        self._next = ((index + 1, size), self._submit(index + 1, size)) if more else None
        return page

    def __getattr__(self, name: str) -> Any:
        return getattr(self._hook, name)


def _readahead(
    make: Callable[[argparse.Namespace], Any],
) -> Callable[[argparse.Namespace], Callable[[], int]]:
    def prepare(args: argparse.Namespace) -> Callable[[], int]:
        from airflow_provider_nexmo_numbers.hooks.nexmo_numbers import NexmoNumbersHook

        op = make(args)
        op.hook = ReadAheadHook(NexmoNumbersHook(nexmo_conn_id=NEXMO_CONN_ID))
        return lambda: op.execute(_context())["rows"]

    return prepare


def _verify(kind: str, workdir: Path) -> int | None:
    """Rows actually written (read back after the clock stopped)."""
    if kind.startswith("sqlite"):
        import sqlite3

        with sqlite3.connect(workdir / "export.db") as db:
            return db.execute("SELECT COUNT(*) FROM nexmo_owned_numbers").fetchone()[0]
    if kind.startswith("parquet"):
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
    prepare = {
        "floor": _floor,
        "client": _client,
        "sqlite": _operator(_sql_operator),
        "parquet": _operator(_file_operator),
        "sqlite+readahead": _readahead(_sql_operator),
        "parquet+readahead": _readahead(_file_operator),
    }[args.kind]
    run = prepare(args)

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
