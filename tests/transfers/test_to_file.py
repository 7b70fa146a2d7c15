"""NexmoNumbersToFileOperator against the sandbox: each format read back, object storage, atomic failure."""

from __future__ import annotations

import csv
import json
import sys
import uuid

import pytest
from airflow.sdk import Asset

from airflow_provider_nexmo_numbers.transfers._rows import COLUMN_NAMES
from airflow_provider_nexmo_numbers.transfers.to_file import NexmoNumbersToFileOperator
from tests.transfers.conftest import (
    INVENTORY_SIZE,
    RUN_ID,
    check_feature_flags,
    comparable,
    listing_fails_after,
    listing_pages_served,
    run_context,
)


def read_back(path, fmt: str) -> list[dict]:
    if fmt == "csv":
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            assert tuple(reader.fieldnames) == COLUMN_NAMES
            return list(reader)
    if fmt == "jsonl":
        with open(path, encoding="utf-8") as fh:
            return [json.loads(line) for line in fh]
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    assert table.column_names == list(COLUMN_NAMES)
    return table.to_pylist()


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_each_format_holds_the_whole_inventory(fmt, inventory, tmp_path):
    path = tmp_path / "exports" / f"numbers.{fmt}"
    op = NexmoNumbersToFileOperator(task_id="export", path=str(path), batch_size=3000)
    assert op.outlets == [Asset(path.as_uri())]
    summary = op.execute(run_context())

    assert summary == {
        "rows": INVENTORY_SIZE,
        "path": str(path),
        "format": fmt,
        "snapshot_id": RUN_ID,
        "snapshot_date": "2024-05-01",
        "pages": 114,  # overlapping pages of up to 100 that prove none was skipped
        "rereads": 0,
        "seconds": summary["seconds"],
    }
    rows = read_back(path, fmt)
    assert len(rows) == INVENTORY_SIZE
    assert {row["msisdn"]: comparable(row) for row in rows} == inventory
    for row in rows[::200]:
        check_feature_flags(row)
        assert str(row["snapshot_date"]) == "2024-05-01"
        assert (row["snapshot_id"], row["run_id"]) == (RUN_ID, RUN_ID)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        assert pq.ParquetFile(path).metadata.num_row_groups == 4  # 10,000 rows in groups of 3,000
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no temp file left behind


def test_object_storage_path(small_inventory, tmp_path):
    """Through Airflow's ObjectStoragePath: a real fsspec in-memory store attached under `memory://`."""
    import fsspec
    from airflow.sdk import ObjectStoragePath
    from airflow.sdk.io import attach

    attach(protocol="memory", fs=fsspec.filesystem("memory"))
    root = ObjectStoragePath(f"memory://bucket-{uuid.uuid4().hex[:8]}/")
    try:
        summary = NexmoNumbersToFileOperator(
            task_id="export", path=f"{root}/daily/numbers.jsonl", snapshot_id="nightly"
        ).execute(run_context())
        target = root / "daily" / "numbers.jsonl"
        assert summary["path"] == str(target)
        lines = target.read_text().splitlines()
        assert {json.loads(line)["msisdn"] for line in lines} == set(small_inventory)
        assert [p.name for p in (root / "daily").iterdir()] == ["numbers.jsonl"]
    finally:
        root.rmdir(recursive=True)


def test_file_url_and_object_storage_path_object(small_inventory, tmp_path):
    from airflow.sdk import ObjectStoragePath

    url_target = tmp_path / "by-url.csv"
    NexmoNumbersToFileOperator(task_id="a", path=url_target.as_uri()).execute(run_context())
    assert len(read_back(url_target, "csv")) == len(small_inventory)

    object_target = tmp_path / "by-object.parquet"
    op = NexmoNumbersToFileOperator(task_id="b", path=ObjectStoragePath(object_target.as_uri()))
    assert op.outlets == [Asset(object_target.as_uri())]
    op.execute(run_context())
    assert len(read_back(object_target, "parquet")) == len(small_inventory)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_failure_midway_leaves_no_half_file(fmt, small_inventory, sandbox, flaky_nexmo_conn, tmp_path):
    path = tmp_path / f"numbers.{fmt}"
    op = NexmoNumbersToFileOperator(
        task_id="export", path=str(path), nexmo_conn_id=flaky_nexmo_conn, batch_size=100
    )
    with listing_fails_after(sandbox, pages=5), pytest.raises(Exception, match="503"):
        op.execute(run_context())
    assert listing_pages_served(sandbox) >= 5  # rows had been written to the temp file
    assert list(tmp_path.iterdir()) == []  # neither the target nor a temp file

    # With a previous export in place, the failed run leaves it untouched.
    NexmoNumbersToFileOperator(task_id="export", path=str(path)).execute(run_context(run_id="earlier"))
    before = path.read_bytes()
    with listing_fails_after(sandbox, pages=5), pytest.raises(Exception, match="503"):
        op.execute(run_context())
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_templated_path_is_rendered_and_checked(small_inventory, tmp_path):
    op = NexmoNumbersToFileOperator(task_id="export", path=str(tmp_path / "numbers_{{ ds }}.csv"))
    assert op.outlets == []
    op.render_template_fields(run_context())
    summary = op.execute(run_context())
    assert summary["path"] == str(tmp_path / "numbers_2024-05-01.csv")


def test_parquet_without_pyarrow_fails_clearly_before_any_request(sandbox, nexmo_conn, tmp_path, monkeypatch):
    from airflow.providers.common.compat.sdk import AirflowFailException

    monkeypatch.setitem(sys.modules, "pyarrow", None)  # cannot uninstall it for one test
    op = NexmoNumbersToFileOperator(task_id="export", path=str(tmp_path / "n.parquet"))
    with pytest.raises(AirflowFailException, match=r"'airflow-provider-nexmo-numbers\[parquet\]'"):
        op.execute(run_context())
    assert sandbox.admin.stats()["api_requests"] == 0
    assert list(tmp_path.iterdir()) == []
