"""Parsing the example DAGs: no import errors, no connection or variable lookup, no network, nothing heavy.

A scheduler parses DAG files every few seconds; a DAG file that looks up a connection or opens a socket at
parse time slows every parse and breaks when the API is down. Configuration must arrive through templates
rendered at run time.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import pytest

from tests.example_dags.conftest import EXAMPLE_DAGS, EXPECTED_DAG_IDS, REPO
from tests.fixtures.airflow_compat import parse_dag_folder

DEFAULT_CONN_ID = "nexmo_numbers_default"


@pytest.fixture
def forbidden(monkeypatch) -> list[str]:
    """Make every connection/variable lookup and every outgoing connection raise, and record the attempt."""
    import airflow.sdk.execution_time.context as task_context
    from airflow.sdk import Variable
    from airflow.sdk.bases.hook import BaseHook
    from airflow.sdk.definitions.connection import Connection

    calls: list[str] = []

    def refuse(what: str):
        def _refuse(*args, **kwargs):
            calls.append(f"{what}{args[-1:] if args else ''}")
            raise RuntimeError(f"{what} while parsing a DAG file")

        return _refuse

    monkeypatch.setattr(BaseHook, "get_connection", classmethod(refuse("BaseHook.get_connection")))
    monkeypatch.setattr(Connection, "get", classmethod(refuse("Connection.get")))
    monkeypatch.setattr(task_context, "_get_connection", refuse("task SDK connection lookup"))
    monkeypatch.setattr(Variable, "get", classmethod(refuse("Variable.get")))
    monkeypatch.setattr(task_context, "_get_variable", refuse("task SDK variable lookup"))
    monkeypatch.setattr(socket.socket, "connect", refuse("socket.connect"))
    monkeypatch.setattr(socket, "create_connection", refuse("socket.create_connection"))
    monkeypatch.setattr(socket, "getaddrinfo", refuse("socket.getaddrinfo"))
    return calls


@pytest.fixture
def bag(forbidden):
    return parse_dag_folder(EXAMPLE_DAGS)


def test_every_example_dag_parses_without_lookups_or_network(bag, forbidden):
    assert bag.import_errors == {}
    assert set(bag.dag_ids) == EXPECTED_DAG_IDS
    assert forbidden == []  # nothing even tried


def test_files_are_the_four_described_in_the_docs(bag):
    files = sorted(p.name for p in EXAMPLE_DAGS.glob("*.py"))
    assert files == [
        "nexmo_numbers_basic_verbs.py",
        "nexmo_numbers_campaign.py",
        "nexmo_numbers_campaign_release.py",
        "nexmo_numbers_inventory_export.py",
    ]
    docs = (REPO / "docs" / "example-dags.md").read_text()
    assert all(f"`{dag_id}`" in docs for dag_id in EXPECTED_DAG_IDS)


def test_nexmo_tasks_use_the_default_connection(bag):
    checked = 0
    for dag_id in EXPECTED_DAG_IDS:
        for task in bag.dags[dag_id].tasks:
            conn_id = getattr(task, "nexmo_conn_id", None)
            if conn_id is None and hasattr(task, "partial_kwargs"):
                conn_id = task.partial_kwargs.get("nexmo_conn_id", DEFAULT_CONN_ID)
            if conn_id is not None:
                assert conn_id == DEFAULT_CONN_ID, task.task_id
                checked += 1
    assert checked >= 9


def test_configuration_is_params_rendered_at_run_time(bag):
    """Values users change (country, webhook, budget, paths) are Params, used through templates."""
    campaign = bag.dags["nexmo_numbers_weekly_campaign"]
    assert {"country", "webhook_url", "count", "max_monthly_cost", "monthly_budget", "export_dir"} <= set(
        campaign.params
    )
    ensure = campaign.get_task("ensure_numbers")
    assert ensure.selector["mo_http_url"] == "{{ params.webhook_url }}"
    assert ensure.monthly_budget == "{{ params.monthly_budget }}"
    assert campaign.get_task("wait_for_campaign_webhook").deferrable is True
    release = bag.dags["nexmo_numbers_campaign_release"]
    assert release.get_task("plan_release").dry_run is True
    assert release.get_task("release").max_release == "{{ params.max_release }}"


def test_report_is_scheduled_on_the_sql_exports_asset(bag):
    export = bag.dags["nexmo_numbers_inventory_export"]
    report = bag.dags["nexmo_numbers_inventory_report"]
    outlets = {task.task_id: [a.uri for a in task.outlets] for task in export.tasks}
    assert outlets["export_to_sql"] == ["nexmo-numbers://nexmo_numbers_warehouse/nexmo_owned_numbers"]
    assert outlets["export_to_parquet"] == ["nexmo-numbers://files/owned_numbers.parquet"]
    scheduled_on = [asset.uri for asset in report.timetable.asset_condition.objects]
    assert scheduled_on == outlets["export_to_sql"]


def test_basic_verbs_map_over_xcom(bag):
    dag = bag.dags["nexmo_numbers_basic_verbs"]
    mapped = sorted(task.task_id for task in dag.tasks if task.is_mapped)
    assert mapped == ["buy", "cancel", "point_at_webhook"]


@pytest.mark.timeout(120)
def test_parsing_imports_nothing_heavy():
    """In a fresh interpreter: parsing the folder loads no hook, sandbox, pyarrow or web server."""
    code = f"""
import json, sys
from tests.fixtures.airflow_compat import parse_dag_folder
bag = parse_dag_folder({str(EXAMPLE_DAGS)!r})
heavy = ["pyarrow", "fastapi", "uvicorn", "airflow_provider_nexmo_numbers.hooks.nexmo_numbers",
         "airflow_provider_nexmo_numbers.sandbox"]
print(json.dumps({{"errors": list(bag.import_errors), "dags": len(bag.dag_ids),
                  "heavy": [m for m in heavy if m in sys.modules]}}))
"""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=110, check=False, cwd=REPO
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["errors"] == []
    assert report["dags"] == len(EXPECTED_DAG_IDS)
    assert report["heavy"] == []
