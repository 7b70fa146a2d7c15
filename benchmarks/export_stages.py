"""Diagnosis for benchmark 3: what each stage of an export costs per number, with no HTTP in the loop.

The export ratio compares an export with a loop that only moves bytes; this splits the difference. Real pages
are fetched once from the sandbox, then each stage the export runs is timed alone over the same numbers, in
this process: the client's page parsing (one pydantic call per page from the response bytes, including the
features validator; plain JSON decoding alone shown for scale), the paging iterator, the row builders, and
the two writers. Private helpers of the client and the transfers
are called on purpose: the point is to name the code that costs.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import sqlite3
import tempfile
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import requests

from benchmarks.common import PAGE_SIZE
from benchmarks.sandbox_speed import bare_token


def _fetch_pages(sb: Any, count: int) -> list[bytes]:
    session = requests.Session()
    token = bare_token(sb.token_url, sb.client_id, sb.client_secret, session)
    headers = {"Authorization": f"Bearer {token}"}
    bodies = []
    for index in range(1, count // PAGE_SIZE + 1):
        response = session.get(
            sb.base_url + "/account/numbers",
            params={"index": index, "size": PAGE_SIZE},
            headers=headers,
            timeout=30,
        )
        response.raise_for_status()
        bodies.append(response.content)
    session.close()
    return bodies


def _timed(fn: Callable[[], Any], numbers: int, repeat: int = 3) -> float:
    """Best of `repeat` runs, in microseconds per number (best: the stage's own cost, least disturbed)."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return round(best / numbers * 1e6, 2)


def run(sb: Any, *, numbers: int = 20_000, log: Any = print) -> dict[str, Any]:
    from airflow_provider_nexmo_numbers.client import NexmoNumbersClient, OwnedNumber
    from airflow_provider_nexmo_numbers.client.models import OwnedNumbersEnvelope
    from airflow_provider_nexmo_numbers.client.paging import iter_numbers
    from airflow_provider_nexmo_numbers.client.validation import canonical_features
    from airflow_provider_nexmo_numbers.transfers._rows import COLUMN_NAMES, Snapshot, row_builder
    from airflow_provider_nexmo_numbers.transfers._writers import open_writer
    from airflow_provider_nexmo_numbers.transfers.to_sql import create_table_sql

    sb.admin.reset(owned_numbers=numbers)
    bodies = _fetch_pages(sb, numbers)
    decoded = [json.loads(body) for body in bodies]

    def parse(body: bytes, index: int) -> Any:
        return NexmoNumbersClient._page(
            OwnedNumbersEnvelope.model_validate_json(body), OwnedNumber, index, PAGE_SIZE
        )

    pages = [parse(body, i + 1) for i, body in enumerate(bodies)]
    models = [number for page in pages for number in page.numbers]
    snapshot = Snapshot("bench", dt.date(2024, 5, 1), "bench")
    file_row, sql_row = row_builder(snapshot), row_builder(snapshot, text=True)
    records = [file_row(number) for number in models]
    rows = [sql_row(number) for number in models]
    n = len(models)

    def paging() -> None:
        for _ in iter_numbers(lambda index, size: pages[index - 1], page_size=PAGE_SIZE):
            pass

    insert = f"INSERT INTO stage ({', '.join(COLUMN_NAMES)}) VALUES ({', '.join('?' * len(COLUMN_NAMES))})"

    def sqlite_insert() -> None:
        with tempfile.TemporaryDirectory() as tmp, closing(sqlite3.connect(Path(tmp) / "stage.db")) as db:
            db.execute(create_table_sql("stage"))
            for start in range(0, n, 1000):
                db.executemany(insert, rows[start : start + 1000])
            db.commit()

    def parquet_write() -> None:
        writer = open_writer("parquet", io.BytesIO(), 10_000)
        for record in records:
            writer.write(record)
        writer.close()

    raw_features = [item.get("features") for body in decoded for item in body.get("numbers", [])]
    stages = {
        "(for scale: json.loads of the bodies, no longer in the path)": _timed(
            lambda: [json.loads(b) for b in bodies], n
        ),
        "page parsing: OwnedNumbersEnvelope.model_validate_json + _page": _timed(
            lambda: [parse(b, 1) for b in bodies], n
        ),
        "  of which features validator: validation.canonical_features (memoised)": _timed(
            lambda: [canonical_features(f) for f in raw_features], n
        ),
        "paging: paging.iter_numbers (no I/O)": _timed(paging, n),
        "row (file): transfers._rows.row_builder": _timed(lambda: [file_row(m) for m in models], n),
        "row (sql): transfers._rows.row_builder(text=True)": _timed(lambda: [sql_row(m) for m in models], n),
        "sql: sqlite executemany + commit (file)": _timed(sqlite_insert, n),
        "parquet: ParquetWriter.write + close": _timed(parquet_write, n),
    }
    for name, value in stages.items():
        log(f"  {value:7.2f} us/number  {name}")
    return {"numbers": n, "unit": "microseconds per number (best of 3)", "stages": stages}
