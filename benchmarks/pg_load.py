"""Benchmark: the SQL export's PostgreSQL load beside a bare COPY of the same rows, and beside executemany.

No HTTP: the rows an export would build (`row_builder(text=True)` over `OwnedNumber`s shaped like the
sandbox's) are made once, then each load runs into a fresh table of the machine's PostgreSQL
(127.0.0.1:5432, database `test`, user `postgres`; skipped with the reason when it is absent):

- provider: `NexmoNumbersToSqlOperator._write` through Airflow's PostgresHook (DELETE of the snapshot, COPY
  on the connection's driver, commit), for psycopg 3 and psycopg2;
- bare COPY: the same rows with the driver alone, as a hand-written loader would (psycopg 3 `write_row`;
  psycopg2 `copy_expert` of CSV built with the csv module), one commit;
- executemany: the portable path (`load_method="insert"`, batches of 1,000), what PostgreSQL got before.

Figures: wall-clock microseconds per row (median and best of `rounds`) and the ratios provider / bare COPY
(of medians, and of bests: the least disturbed on a loaded machine) and executemany / provider. Private
helpers of the transfers are called on purpose: the point is the load alone.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import time
import uuid
from collections.abc import Callable
from typing import Any

from benchmarks.common import median

DSN = "host=127.0.0.1 port=5432 dbname=test user=postgres connect_timeout=3"
CONN = {"conn_type": "postgres", "host": "127.0.0.1", "port": 5432, "login": "postgres", "schema": "test"}


def _rows(n: int) -> list[tuple[Any, ...]]:
    from airflow_provider_nexmo_numbers.client import OwnedNumber
    from airflow_provider_nexmo_numbers.transfers._rows import Snapshot, row_builder

    build = row_builder(Snapshot("bench", dt.date(2024, 5, 1), "bench"), text=True)
    return [
        build(
            OwnedNumber(
                country="GB",
                msisdn=str(447400000000 + i),
                type="mobile-lvn",
                features=["SMS", "VOICE"],
                moHttpUrl="https://hooks.example.com/sms/inbound",
                voiceCallbackType="sip",
                voiceCallbackValue="sip:in@voice.example.com",
            )
        )
        for i in range(n)
    ]


def _timed(fn: Callable[[], Any], rows: int, rounds: int) -> dict[str, Any]:
    """Median of `rounds` runs after one unmeasured warm-up (connections, imports, server caches)."""
    fn()
    samples = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return {
        "us_per_row_median": round(median(samples) / rows * 1e6, 2),
        "us_per_row_min": round(min(samples) / rows * 1e6, 2),  # least disturbed by a loaded machine
        "seconds": [round(s, 3) for s in samples],
    }


def run(*, rows: int = 50_000, rounds: int = 5, log: Any = print) -> dict[str, Any]:
    import psycopg
    from airflow.providers.postgres.hooks import postgres as pg

    from airflow_provider_nexmo_numbers.transfers._rows import COLUMN_NAMES
    from airflow_provider_nexmo_numbers.transfers.to_sql import NexmoNumbersToSqlOperator, create_table_sql

    try:
        psycopg.connect(DSN).close()
    except psycopg.OperationalError as err:
        return {"skipped": f"PostgreSQL on 127.0.0.1:5432 is not reachable: {err}"}
    os.environ["AIRFLOW_CONN_BENCH_PG_LOAD"] = json.dumps(CONN)
    data = _rows(rows)
    table = f"bench_pg_load_{uuid.uuid4().hex[:8]}"
    columns = ", ".join(COLUMN_NAMES)

    def fresh() -> None:
        with psycopg.connect(DSN, autocommit=True) as db:
            db.execute(f"DROP TABLE IF EXISTS {table}")
            db.execute(create_table_sql(table))

    def provider(method: str) -> Callable[[], Any]:
        op = NexmoNumbersToSqlOperator(
            task_id="bench", sql_conn_id="bench_pg_load", table=table, create_table=False, load_method=method
        )
        hook = pg.PostgresHook(postgres_conn_id="bench_pg_load")

        def load() -> None:
            fresh()
            op._write(hook, table, "bench", iter(data))

        return load

    def bare_psycopg() -> None:
        fresh()
        with psycopg.connect(DSN) as db, db.cursor() as cur:
            with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in data:
                    copy.write_row(row)
            db.commit()

    def bare_psycopg2() -> None:
        import psycopg2

        fresh()
        db = psycopg2.connect(DSN)
        try:
            buffer = io.StringIO()
            csv.writer(buffer).writerows(data)
            buffer.seek(0)
            with db.cursor() as cur:
                cur.copy_expert(f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv)", buffer)
            db.commit()
        finally:
            db.close()

    figures: dict[str, Any] = {}
    original = pg.USE_PSYCOPG3
    try:
        for driver, use3, bare in (("psycopg", True, bare_psycopg), ("psycopg2", False, bare_psycopg2)):
            if use3 and not original:
                continue
            pg.USE_PSYCOPG3 = use3
            figures[driver] = {
                "provider_copy": _timed(provider("auto"), rows, rounds),
                "bare_copy": _timed(bare, rows, rounds),
                "executemany": _timed(provider("insert"), rows, rounds),
            }
            fig = figures[driver]
            fig["ratio_provider_to_bare_copy"] = round(
                fig["provider_copy"]["us_per_row_median"] / fig["bare_copy"]["us_per_row_median"], 2
            )
            fig["ratio_provider_to_bare_copy_min"] = round(
                fig["provider_copy"]["us_per_row_min"] / fig["bare_copy"]["us_per_row_min"], 2
            )
            fig["ratio_executemany_to_provider"] = round(
                fig["executemany"]["us_per_row_median"] / fig["provider_copy"]["us_per_row_median"], 2
            )
            us = {
                name: fig[name]["us_per_row_median"] for name in ("provider_copy", "bare_copy", "executemany")
            }
            log(
                f"  {driver}: provider COPY {us['provider_copy']} us/row, bare COPY {us['bare_copy']}, "
                f"executemany {us['executemany']} -> {fig['ratio_provider_to_bare_copy']} x bare, "
                f"executemany "
                f"{fig['ratio_executemany_to_provider']} x provider"
            )
    finally:
        pg.USE_PSYCOPG3 = original
        with psycopg.connect(DSN, autocommit=True) as db:
            db.execute(f"DROP TABLE IF EXISTS {table}")
    return {"rows": rows, "rounds": rounds, "unit": "wall-clock us per row, median", "drivers": figures}


if __name__ == "__main__":
    from benchmarks.common import prepare_environment

    prepare_environment()
    print(json.dumps(run(), indent=2))
