"""The building blocks of the file export on their own: atomic replacement and the three streaming writers."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import sys
import uuid

import pytest

from airflow_provider_nexmo_numbers.transfers._atomic import atomic_write
from airflow_provider_nexmo_numbers.transfers._rows import COLUMN_NAMES, Snapshot, number_row
from airflow_provider_nexmo_numbers.transfers._writers import PARQUET_MISSING, open_writer

SNAP = Snapshot("s1", dt.date(2024, 5, 1), "run-1")
NUMBERS = [
    {"country": "NL", "msisdn": f"3161234{i:04d}", "type": "mobile-lvn", "features": ["SMS", "VOICE"]}
    for i in range(25)
] + [{"country": "GB", "msisdn": "447700900123", "type": "landline", "features": [], "app_id": "a-1"}]


class Boom(RuntimeError):
    pass


def fail_halfway(target, data: bytes) -> None:
    """Write part of a file, then fail the way an export fails mid-stream."""
    with atomic_write(target) as fh:
        fh.write(data)
        raise Boom()


def records():
    return [number_row(n, SNAP) for n in NUMBERS]


def write(fmt: str, batch_size: int = 10) -> bytes:
    buffer = io.BytesIO()
    writer = open_writer(fmt, buffer, batch_size)
    for record in records():
        writer.write(record)
    writer.close()
    return buffer.getvalue()


def test_local_write_appears_only_when_complete(tmp_path):
    target = tmp_path / "sub" / "numbers.csv"
    with atomic_write(target) as fh:
        fh.write(b"partial")
        assert not target.exists()  # nothing visible while writing
    assert target.read_bytes() == b"partial"
    assert sorted(p.name for p in target.parent.iterdir()) == ["numbers.csv"]


def test_local_failure_keeps_the_previous_file_and_leaves_no_temp(tmp_path):
    target = tmp_path / "numbers.csv"
    target.write_bytes(b"previous complete export")
    with pytest.raises(Boom):
        fail_halfway(target, b"half of the new one")
    assert target.read_bytes() == b"previous complete export"
    assert [p.name for p in tmp_path.iterdir()] == ["numbers.csv"]


@pytest.fixture
def memory_store():
    """A real fsspec in-memory filesystem, attached to Airflow's object storage under the `memory` scheme."""
    import fsspec
    from airflow.sdk import ObjectStoragePath
    from airflow.sdk.io import attach

    attach(protocol="memory", fs=fsspec.filesystem("memory"))
    root = ObjectStoragePath(f"memory://exports-{uuid.uuid4().hex[:8]}/")
    yield root
    if root.exists():
        root.rmdir(recursive=True)


def test_object_storage_write_and_failure(memory_store):
    target = memory_store / "numbers.jsonl"
    with atomic_write(target) as fh:
        fh.write(b"v1\n")
    assert target.read_bytes() == b"v1\n"
    with pytest.raises(Boom):
        fail_halfway(target, b"v2 half")
    assert target.read_bytes() == b"v1\n"
    assert [p.name for p in memory_store.iterdir()] == ["numbers.jsonl"]


def test_csv_round_trip():
    rows = list(csv.DictReader(io.StringIO(write("csv").decode())))
    assert tuple(rows[0]) == COLUMN_NAMES
    assert len(rows) == len(NUMBERS)
    assert rows[0]["features"] == "SMS,VOICE"
    assert (rows[0]["has_sms"], rows[0]["has_mms"]) == ("true", "false")
    assert rows[0]["snapshot_date"] == "2024-05-01"
    assert rows[-1]["features"] == ""
    assert rows[-1]["app_id"] == "a-1"
    assert rows[0]["app_id"] == ""  # NULL


def test_jsonl_round_trip():
    lines = write("jsonl").decode().splitlines()
    assert len(lines) == len(NUMBERS)
    first, last = json.loads(lines[0]), json.loads(lines[-1])
    assert tuple(first) == COLUMN_NAMES
    assert first["features"] == ["SMS", "VOICE"]
    assert first["has_voice"] is True
    assert first["app_id"] is None
    assert last["features"] == []


def test_parquet_round_trip_in_row_groups():
    pq = pytest.importorskip("pyarrow.parquet")
    data = write("parquet", batch_size=10)
    parquet = pq.ParquetFile(io.BytesIO(data))
    assert parquet.metadata.num_row_groups == 3  # 26 rows in groups of 10
    table = parquet.read()
    assert table.column_names == list(COLUMN_NAMES)
    rows = table.to_pylist()
    assert rows == [dict(zip(COLUMN_NAMES, row, strict=True)) for row in records()]


def test_parquet_without_pyarrow_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # the sandbox cannot uninstall a package; this can
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(ImportError, match=r"airflow-provider-nexmo-numbers\[parquet\]") as info:
        open_writer("parquet", io.BytesIO(), 10)
    assert str(info.value) == PARQUET_MISSING
