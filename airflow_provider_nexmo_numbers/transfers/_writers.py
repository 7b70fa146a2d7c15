"""Streaming record writers for the file export: CSV, JSON Lines, Parquet.

Each writer takes rows (tuples in COLUMN_NAMES order, from `_rows.row_builder` or `number_row`) one at a
time and keeps at most one batch in memory (Parquet: one row group). pyarrow is imported only when a Parquet
writer is created, so a DAG that exports CSV never pays for it and works without it installed.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
from collections.abc import Sequence
from typing import IO, Any

from airflow_provider_nexmo_numbers.transfers._rows import COLUMN_NAMES, KNOWN_FEATURES, features_text

_DATE = COLUMN_NAMES.index("snapshot_date")

FORMATS: tuple[str, ...] = ("csv", "jsonl", "parquet")
EXTENSIONS: dict[str, str] = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}
PARQUET_MISSING = (
    "format='parquet' needs pyarrow, which is not installed; "
    "install it with: pip install 'airflow-provider-nexmo-numbers[parquet]'"
)


class CsvWriter:
    """RFC 4180 CSV with a header; features as 'SMS,VOICE', booleans as true/false, NULL as an empty field."""

    def __init__(self, fh: IO[bytes], batch_size: int, columns: Sequence[str] = COLUMN_NAMES) -> None:
        self._text = io.TextIOWrapper(fh, encoding="utf-8", newline="", write_through=False)
        self._csv = csv.writer(self._text, lineterminator="\n")
        self._csv.writerow(columns)
        self._columns = tuple(columns)

    def write(self, row: tuple[Any, ...]) -> None:
        self._csv.writerow([_csv_value(name, value) for name, value in zip(self._columns, row, strict=True)])

    def close(self) -> None:
        self._text.flush()
        self._text.detach()  # the caller owns (and closes) the binary handle

    def abort(self) -> None:
        """Let go of the handle after a failure (the temporary file is discarded anyway)."""
        with contextlib.suppress(Exception):
            self._text.detach()


def _csv_value(name: str, value: Any) -> Any:
    if value is None:
        return ""
    if name == "features":
        return features_text(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if name == "snapshot_date":
        return value.isoformat()
    return value


class JsonlWriter:
    """One JSON object per line; features as a JSON array, the date as ISO text."""

    def __init__(self, fh: IO[bytes], batch_size: int, columns: Sequence[str] = COLUMN_NAMES) -> None:
        self._text = io.TextIOWrapper(fh, encoding="utf-8", newline="\n", write_through=False)
        self._columns = tuple(columns)

    def write(self, row: tuple[Any, ...]) -> None:
        data = dict(zip(self._columns, row, strict=True))
        data["snapshot_date"] = row[_DATE].isoformat()
        self._text.write(json.dumps(data, ensure_ascii=False, separators=(",", ":")))
        self._text.write("\n")

    def close(self) -> None:
        self._text.flush()
        self._text.detach()

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self._text.detach()


class ParquetWriter:
    """Typed Parquet (date32, bool, list<string>), one row group per `batch_size` records."""

    def __init__(
        self,
        fh: IO[bytes],
        batch_size: int,
        columns: Sequence[str] = COLUMN_NAMES,
        compression: str = "snappy",
    ) -> None:
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError as err:
            raise ImportError(PARQUET_MISSING) from err
        self._pa = pa
        self._columns = tuple(columns)
        self._schema = parquet_schema(pa, self._columns)
        self._writer = pq.ParquetWriter(fh, self._schema, compression=compression)
        self._batch_size = batch_size
        self._rows: list[tuple[Any, ...]] = []

    def write(self, row: tuple[Any, ...]) -> None:
        self._rows.append(row)
        if len(self._rows) >= self._batch_size:
            self._flush()

    def _flush(self) -> None:
        if not self._rows:
            return
        columns = dict(zip(self._columns, map(list, zip(*self._rows, strict=True)), strict=True))  # in C
        pending = len(self._rows)
        self._rows = []
        table = self._pa.Table.from_pydict(columns, schema=self._schema)
        self._writer.write_table(table, row_group_size=pending)

    def close(self) -> None:
        self._flush()
        self._writer.close()

    def abort(self) -> None:
        """Close now, while the temporary file is still open; left to the garbage collector, pyarrow would
        try to write its footer into an already closed file."""
        self._rows = []
        with contextlib.suppress(Exception):
            self._writer.close()


def parquet_schema(pa: Any, columns: Sequence[str] = COLUMN_NAMES) -> Any:
    """The Parquet schema (pyarrow passed in so that this module never imports it at load time)."""
    types = {"snapshot_date": pa.date32(), "features": pa.list_(pa.string())}
    types.update({f"has_{f.lower()}": pa.bool_() for f in KNOWN_FEATURES})
    not_null = {"snapshot_id", "snapshot_date", "country", "msisdn"}
    not_null |= {f"has_{f.lower()}" for f in KNOWN_FEATURES}
    return pa.schema(
        [pa.field(name, types.get(name, pa.string()), nullable=name not in not_null) for name in columns]
    )


def open_writer(
    fmt: str, fh: IO[bytes], batch_size: int, columns: Sequence[str] = COLUMN_NAMES
) -> CsvWriter | JsonlWriter | ParquetWriter:
    writers = {"csv": CsvWriter, "jsonl": JsonlWriter, "parquet": ParquetWriter}
    return writers[fmt](fh, batch_size, columns)
