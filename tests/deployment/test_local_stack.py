"""Every example DAG on a real LocalExecutor deployment, as a new user runs them.

api-server, scheduler, dag-processor and triggerer run as four processes against a fresh PostgreSQL
database; the DAGs come from example_dags/, created unpaused (so their scheduled runs start at once, with
their defaults, as after unpausing). Runs are triggered without a logical date, by the CLI and the REST API,
which is what Airflow 3 does and `dag.test()` hides. Tasks talk to the session's sandbox over loopback.
One stack serves the whole module; the tests run in file order and build on each other.
"""

from __future__ import annotations

import json

import pytest

from tests.deployment.conftest import require_postgres
from tests.deployment.stack import AirflowStack, wait_until
from tests.fixtures.airflow import nexmo_connection_json

pytestmark = [pytest.mark.deployment, pytest.mark.timeout(1500)]

CAMPAIGN = "nexmo_numbers_weekly_campaign"
EXPECTED_DAGS = {
    "nexmo_numbers_basic_verbs",
    CAMPAIGN,
    "nexmo_numbers_campaign_release",
    "nexmo_numbers_inventory_export",
    "nexmo_numbers_inventory_report",
}
SIP = "sip:campaign-1@pbx.example.com"


@pytest.fixture(scope="module")
def stack(tmp_path_factory, sandbox_server):
    require_postgres()
    sandbox_server.admin.reset()
    home = tmp_path_factory.mktemp("airflow-local-stack")
    warehouse = json.dumps({"conn_type": "sqlite", "host": str(home / "warehouse.db")})
    stack = AirflowStack(
        home,
        executor="LocalExecutor",
        extra_env={
            "AIRFLOW_CONN_NEXMO_NUMBERS_DEFAULT": nexmo_connection_json(sandbox_server),
            "AIRFLOW_CONN_NEXMO_NUMBERS_WAREHOUSE": warehouse,
        },
    )
    try:
        stack.cli("db", "migrate", timeout=600)
        stack.cli("pools", "set", "nexmo_numbers", "2", "Nexmo Numbers API")
        stack.start_core()
        wait_until(
            lambda: stack.dag_ids() >= EXPECTED_DAGS,
            timeout=300,
            what="the example DAGs to be parsed",
            every=3,
        )
        yield stack
    finally:
        stack.close()


def _succeeded(stack: AirflowStack, dag_id: str, run_id: str, timeout: float = 600) -> None:
    state = stack.wait_for_run(dag_id, run_id, timeout=timeout)
    assert state == "success", (dag_id, stack.states(dag_id, run_id))


def test_the_example_dags_parse_and_unpausing_starts_only_runs_that_succeed(stack):
    assert stack.import_errors() == []
    # Created unpaused: the campaign's and the export's latest scheduled runs start at once, with the
    # defaults of the DAG files. The release fires only at its campaign's end; basic verbs has no schedule.
    for dag_id in (CAMPAIGN, "nexmo_numbers_inventory_export"):
        runs = wait_until(lambda d=dag_id: stack.runs(d), timeout=300, what=f"{dag_id}'s scheduled run")
        assert [r["run_type"] for r in runs] == ["scheduled"]
        _succeeded(stack, dag_id, runs[0]["dag_run_id"])
    campaign_run = stack.runs(CAMPAIGN)[0]["dag_run_id"]
    assert set(stack.states(CAMPAIGN, campaign_run).values()) == {"skipped"}  # not configured: said so
    assert stack.runs("nexmo_numbers_campaign_release") == []
    assert stack.runs("nexmo_numbers_basic_verbs") == []


def test_cli_trigger_without_the_required_webhook_is_refused(stack):
    refused = stack.cli("dags", "trigger", "nexmo_numbers_basic_verbs", check=False, timeout=180)
    assert refused.returncode != 0
    assert "webhook_url" in refused.stdout + refused.stderr


def test_basic_verbs_from_the_cli_without_a_logical_date(stack, sandbox_server, webhook):
    conf = {
        "country": "NL",
        "count": 2,
        "max_monthly_cost": "3.00",
        "webhook_url": webhook.url("ready-after-hits/1/basic"),
    }
    done = stack.cli("dags", "trigger", "nexmo_numbers_basic_verbs", "-c", json.dumps(conf), "-o", "json")
    run = json.loads(done.stdout[done.stdout.index("[") :])[0]
    assert run["logical_date"] is None

    _succeeded(stack, "nexmo_numbers_basic_verbs", run["dag_run_id"])
    bought = stack.xcom("nexmo_numbers_basic_verbs", run["dag_run_id"], "buy", 0)
    assert bought["msisdn"]
    stats = sandbox_server.admin.stats()
    assert len(stats["purchases"]) == 2
    assert set(stats["purchases"].values()) == {1}
    assert sorted(stats["cancellations"]) == sorted(stats["purchases"])  # the demo gave them back


def test_campaign_defers_to_the_triggerer_and_a_rerun_writes_nothing(stack, sandbox_server, webhook):
    conf = {
        "country": "GB",
        "count": 3,
        "webhook_url": webhook.url("ready-after-hits/1/campaign"),
        "sip_uri": SIP,
        "max_monthly_cost": "3.00",
        "monthly_budget": "10.00",
    }
    before = sandbox_server.admin.stats()
    run_id = stack.trigger(CAMPAIGN, conf)
    _succeeded(stack, CAMPAIGN, run_id)

    # The webhook answered 503 to the worker's first look, so the sensor deferred; the triggerer's probe got
    # the 200 (its log lines are the trigger's, in the sensor's task log).
    sensor_logs = [
        text
        for path, text in stack.task_logs()
        if CAMPAIGN in str(path) and "wait_for_campaign_webhook" in str(path)
    ]
    assert any("HTTP 503: not ready yet" in text for text in sensor_logs)
    trigger_lines = [
        line
        for text in [*sensor_logs, stack.output("triggerer")]
        for line in text.splitlines()
        if "NexmoWebhookReadyTrigger" in line or "triggers.webhook_ready" in line
    ]
    assert any("HTTP 200: ready" in line for line in trigger_lines), trigger_lines[-5:]

    ensure = stack.xcom(CAMPAIGN, run_id, "ensure_numbers")
    assert len(ensure["applied"]["bought"]) == 3
    export = stack.xcom(CAMPAIGN, run_id, "export_inventory")
    assert export["path"].startswith(str(stack.home / "nexmo_numbers_exports"))
    after_first = sandbox_server.admin.stats()
    assert len(after_first["purchases"]) == len(before["purchases"]) + 3

    rerun = stack.trigger(CAMPAIGN, conf)
    _succeeded(stack, CAMPAIGN, rerun)
    assert stack.xcom(CAMPAIGN, rerun, "ensure_numbers")["write_requests"] == 0
    after_rerun = sandbox_server.admin.stats()
    assert after_rerun["writes"] == after_first["writes"]  # 0 writes on the re-run
    assert set(after_rerun["purchases"].values()) == {1}  # no number bought twice


def test_export_report_and_release_without_a_logical_date(stack, sandbox_server, webhook):
    export = stack.trigger("nexmo_numbers_inventory_export")
    _succeeded(stack, "nexmo_numbers_inventory_export", export)
    owned = len(sandbox_server.admin.owned())
    assert stack.xcom("nexmo_numbers_inventory_export", export, "export_to_sql")["rows"] == owned

    report = stack.trigger("nexmo_numbers_inventory_report")
    _succeeded(stack, "nexmo_numbers_inventory_report", report)
    counted = stack.xcom("nexmo_numbers_inventory_report", report, "count_numbers")
    assert sum(group["numbers"] for group in counted) == owned

    conf = {"country": "GB", "webhook_url": webhook.url("ready-after-hits/1/campaign"), "max_release": 5}
    release = stack.trigger("nexmo_numbers_campaign_release", conf)
    _succeeded(stack, "nexmo_numbers_campaign_release", release)
    released = stack.xcom("nexmo_numbers_campaign_release", release, "release")["released"]
    assert len(released) == 3
    assert len(sandbox_server.admin.owned()) == owned - 3


def test_task_logs_carry_no_secret_and_no_token(stack, sandbox_server):
    secrets = [sandbox_server.client_secret] + [t["access_token"] for t in sandbox_server.admin.tokens()]
    assert len(secrets) >= 2  # tokens were issued: the tasks really authenticated
    logs = list(stack.task_logs())
    assert len(logs) >= 15
    leaks = [(str(path), s[:4]) for path, text in logs for s in secrets if s in text]
    assert leaks == []
