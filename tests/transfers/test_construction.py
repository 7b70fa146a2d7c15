"""Construction-time checks (errors name the field and the rule), Asset outlets, and parse-time cost."""

from __future__ import annotations

import subprocess
import sys

import pytest
from airflow.sdk import Asset

from airflow_provider_nexmo_numbers.transfers.to_file import NexmoNumbersToFileOperator
from airflow_provider_nexmo_numbers.transfers.to_sql import NexmoNumbersToSqlOperator


def sql_op(**kwargs):
    kwargs.setdefault("task_id", "to_sql")
    kwargs.setdefault("sql_conn_id", "warehouse")
    return NexmoNumbersToSqlOperator(**kwargs)


def file_op(**kwargs):
    kwargs.setdefault("task_id", "to_file")
    kwargs.setdefault("path", "/data/numbers.csv")
    return NexmoNumbersToFileOperator(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"table": "numbers; DROP TABLE x"}, "table: must be a SQL identifier"),
        ({"table": "1numbers"}, "table: must be a SQL identifier"),
        ({"table": "a.b.c"}, r"table: at most one dot"),
        ({"table": "s.t", "schema": "s"}, "not both"),
        ({"schema": "bad-schema"}, "schema: must be a SQL identifier"),
        ({"batch_size": 0}, r"batch_size: must be an integer >= 1"),
        ({"batch_size": "10"}, r"batch_size: must be an integer >= 1"),
        ({"page_size": 101}, "page_size: must be at most 100"),
        ({"progress_interval": -1}, "progress_interval: must be a number >= 0"),
        ({"sql_conn_id": ""}, "sql_conn_id: must be a non-empty connection id"),
        ({"asset": 42}, "asset: must be an airflow.sdk.Asset or a URI string"),
    ],
)
def test_sql_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        sql_op(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"format": "xlsx"}, "format: must be one of csv, jsonl, parquet"),
        ({"path": "/data/numbers.txt"}, "format: .* cannot be inferred"),
        ({"path": "relative/numbers.csv"}, "path: a local path must be absolute"),
        ({"path": "/data/"}, "path: must name a file"),
        ({"path": ""}, "path: must be a non-empty path"),
        ({"batch_size": -5}, "batch_size: must be an integer >= 1"),
        ({"page_size": 0}, "page_size: must be an integer >= 1"),
        ({"path": "/data/exports/../secrets/numbers.csv"}, "path: must not contain '..' segments"),
        ({"path": "/data/.."}, "path: must not contain '..' segments"),
        ({"path": "file:///data/../etc/numbers.csv"}, "path: must not contain '..' segments"),
        ({"path": "s3://bucket/a/../b.csv"}, "path: must not contain '..' segments"),
        ({"verify_listing": "yes"}, "verify_listing: must be True or False"),
    ],
)
def test_file_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        file_op(**kwargs)


def test_dots_inside_names_are_not_parent_segments():
    assert file_op(path="/data/..numbers../n..csv").path == "/data/..numbers../n..csv"


def test_a_rendered_path_with_parent_segments_fails_before_any_request(sandbox, nexmo_conn, tmp_path):
    from airflow.providers.common.compat.sdk import AirflowFailException

    from tests.transfers.conftest import run_context

    op = file_op(path=str(tmp_path / "{{ params.team }}" / "numbers.csv"))
    op.path = str(tmp_path / "exports" / ".." / ".." / "numbers.csv")  # what rendering gave
    with pytest.raises(AirflowFailException, match=r"'\.\.' segments"):
        op.execute(run_context())
    assert sandbox.admin.stats()["requests"] == {}
    assert list(tmp_path.iterdir()) == []


def test_page_size_is_deprecated_and_ignored():
    with pytest.warns(DeprecationWarning, match="page_size is deprecated and ignored"):
        op = file_op(page_size=10)
    assert op.page_size == 100


def test_templated_values_are_checked_later_not_at_parse_time():
    op = sql_op(table="{{ params.table }}", schema="{{ params.schema }}")
    assert op.outlets == []  # unknown until run time: no guessed asset
    op = file_op(path="{{ params.dir }}/numbers.parquet")
    assert op.format == "parquet"
    assert op.outlets == []


def test_format_is_inferred_from_the_extension():
    assert file_op(path="/d/n.jsonl").format == "jsonl"
    assert file_op(path="/d/n.ndjson").format == "jsonl"
    assert file_op(path="s3://bucket/n.PARQUET").format == "parquet"
    assert file_op(path="/d/n.dat", format="CSV").format == "csv"


def test_default_assets_name_the_target():
    assert sql_op(table="warehouse.numbers").outlets == [Asset("nexmo-numbers://warehouse/warehouse.numbers")]
    assert sql_op(table="numbers", schema="ops").outlets == [Asset("nexmo-numbers://warehouse/ops.numbers")]
    assert file_op(path="/data/numbers.csv").outlets == [Asset("file:///data/numbers.csv")]
    assert file_op(path="s3://bucket/n.parquet").outlets == [Asset("s3://bucket/n.parquet")]


def test_explicit_asset_and_outlets_win():
    mine = Asset("warehouse://numbers")
    assert sql_op(asset=mine).outlets == [mine]
    assert file_op(asset="s3://elsewhere/x.csv").outlets == [Asset("s3://elsewhere/x.csv")]
    assert sql_op(outlets=[]).outlets == []


def test_importing_the_transfers_is_cheap():
    """DAG files import these on every parse: no client, hook, pyarrow, DB drivers or sandbox."""
    code = (
        "import sys\n"
        # The baseline every DAG file pays: Airflow 3.1's own import already loads psycopg2 (through
        # sqlalchemy-utils) when it is installed; only what the transfers add on top counts.
        "import airflow\n"
        "baseline = set(sys.modules)\n"
        "import airflow_provider_nexmo_numbers.transfers.to_sql\n"
        "import airflow_provider_nexmo_numbers.transfers.to_file\n"
        "pkg = 'airflow_provider_nexmo_numbers'\n"
        "heavy = ['pyarrow', 'fastapi', 'uvicorn', 'psycopg', 'psycopg2', pkg + '.client',\n"
        "         pkg + '.hooks.nexmo_numbers', pkg + '.sandbox', 'airflow.providers.common.sql.hooks.sql']\n"
        "print([m for m in heavy if m in sys.modules and m not in baseline])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"
