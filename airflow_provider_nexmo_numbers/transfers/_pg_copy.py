"""Load rows into PostgreSQL with `COPY ... FROM STDIN`, through the connection's own driver.

`executemany` costs a round of parameter binding per row (the issue measured 158 us/row with psycopg in
batches of 1,000); `COPY` streams rows in the server's bulk format. Airflow's postgres provider hands out a
psycopg 3 connection (when psycopg and SQLAlchemy 2 are installed) or a psycopg2 one, so both are served:

- psycopg 3: `cursor.copy()` and `write_row`, which adapts each value in C;
- psycopg2: `copy_expert` over COPY's text format, built here in batches (tab separated, `\\N` for NULL,
  backslash escapes), so memory stays at one batch.

Either runs on the caller's cursor, inside the caller's transaction: the snapshot's DELETE and its COPY
commit (or roll back) together, as the generic path's DELETE and INSERTs do.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from itertools import islice
from typing import Any

__all__ = ["copy_driver", "copy_rows"]

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_driver(db_hook: Any, conn: Any) -> str | None:
    """`"psycopg"` or `"psycopg2"` when `conn` is a PostgreSQL connection of that driver obtained through
    Airflow's PostgresHook (where COPY FROM STDIN is PostgreSQL's own); None for anything else."""
    try:
        from airflow.providers.postgres.hooks.postgres import PostgresHook
    except ImportError:
        return None
    if not isinstance(db_hook, PostgresHook):
        return None
    module = type(conn).__module__.split(".", 1)[0]
    return module if module in ("psycopg", "psycopg2") else None


def copy_rows(
    driver: str, cur: Any, table: str, columns: Sequence[str], rows: Iterable[tuple[Any, ...]], batch: int
) -> int:
    """COPY `rows` (tuples in `columns` order: str, bool or None) into `table`; returns how many."""
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    if driver == "psycopg":
        written = 0
        with cur.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)
                written += 1
        return written
    written = 0
    source = iter(rows)
    while chunk := list(islice(source, batch)):
        cur.copy_expert(sql, io.StringIO(text_lines(chunk)))
        written += len(chunk)
    return written


def text_lines(rows: Sequence[tuple[Any, ...]]) -> str:
    """`rows` in COPY's text format. Almost no value needs an escape, so each row is joined as it is and
    checked with C-speed counts (tabs = separators, backslashes = the NULL markers, no line breaks); only
    a row that fails the check is built value by value."""
    lines = []
    for row in rows:
        try:
            line: str | None = "\t".join(
                ["\\N" if v is None else ("t" if v else "f") if v.__class__ is bool else v for v in row]
            )
        except TypeError:  # a value that is not text (the export gives text; other callers may not)
            line = None
        if (
            line is None
            or line.count("\t") != len(row) - 1
            or line.count("\\") != row.count(None)
            or "\n" in line
            or "\r" in line
        ):
            line = "\t".join(map(_text_value, row))
        lines.append(line)
    lines.append("")
    return "\n".join(lines)


def _text_value(value: Any) -> str:
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    return str(value).translate(_ESCAPES)
