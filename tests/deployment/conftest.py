"""One real Airflow deployment for every deployment test, skipped where PostgreSQL is absent.

Building a stack costs minutes on a small machine (migrating a PostgreSQL database, starting four Airflow
processes), so the session builds one and both test modules share it: executors ``LocalExecutor`` (the
default of every task) and, where Redis is reachable, ``CeleryExecutor`` too (tasks that say
``executor="CeleryExecutor"``; its workers are started by the Celery test). The DAGs folder links the example
DAGs and the Celery test's DAG. The provider's ledger is the connection ``nexmo_numbers_ledger`` on the same
PostgreSQL database, as on a cluster.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from tests.deployment.stack import PG, REDIS, REPO, AirflowStack, port_open, wait_until
from tests.fixtures.airflow import nexmo_connection_json
from tests.sensors.webhook_server import LocalWebhook

TEST_DAGS = Path(__file__).parent / "dags"


def celery_available() -> str | None:
    """None when the Celery part can run, else why not."""
    if not port_open(*REDIS):
        return f"Redis is not reachable on {REDIS[0]}:{REDIS[1]} (the Celery broker)"
    try:
        import airflow.providers.celery  # noqa: F401
    except ImportError:
        return "apache-airflow-providers-celery is not installed"
    return None


def _dags_folder(home: Path, *, with_celery: bool) -> Path:
    """Links to the example DAGs, and to the Celery test's DAG when Celery is configured (its tasks name the
    CeleryExecutor, which is an import error where it is not)."""
    folder = home / "dags"
    folder.mkdir()
    test_dags = sorted(TEST_DAGS.glob("*.py")) if with_celery else []
    for dag_file in [*sorted((REPO / "example_dags").glob("*.py")), *test_dags]:
        (folder / dag_file.name).symlink_to(dag_file)
    return folder


@pytest.fixture(scope="session")
def stack(tmp_path_factory, sandbox_server):
    if not port_open(PG["host"], PG["port"]):
        pytest.skip(f"PostgreSQL is not reachable on {PG['host']}:{PG['port']} (the metadata database)")
    home = tmp_path_factory.mktemp("airflow-stack")
    celery_missing = celery_available()
    executors = "LocalExecutor" if celery_missing else "LocalExecutor,CeleryExecutor"
    stack = AirflowStack(home, executor=executors)
    stack.celery_missing = celery_missing
    stack.queue = f"nexmo_deploy_{uuid.uuid4().hex[:8]}"  # never another run's workers or tasks
    ledger = {"conn_type": "postgres", "host": PG["host"], "port": PG["port"], "login": PG["user"]}
    stack.env.update(
        {
            "AIRFLOW__CORE__DAGS_FOLDER": str(_dags_folder(home, with_celery=not celery_missing)),
            "AIRFLOW_CONN_NEXMO_NUMBERS_DEFAULT": nexmo_connection_json(sandbox_server),
            "AIRFLOW_CONN_NEXMO_NUMBERS_WAREHOUSE": json.dumps(
                {"conn_type": "sqlite", "host": str(home / "warehouse.db")}
            ),
            "AIRFLOW_CONN_NEXMO_NUMBERS_LEDGER": json.dumps({**ledger, "schema": stack.database}),
            # A dead worker's tasks are noticed after 20 s instead of 300 s (docs/deployment.md).
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "20",
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
            "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": "60",
            "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT_CHECK_INTERVAL": "10",
            "AIRFLOW__OPERATORS__DEFAULT_QUEUE": stack.queue,
            "AIRFLOW__CELERY__BROKER_URL": f"redis://{REDIS[0]}:{REDIS[1]}/7",
            "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + stack.db_url,
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2",
            "AIRFLOW__CELERY__WORKER_PREFETCH_MULTIPLIER": "1",
            "AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__VISIBILITY_TIMEOUT": "60",
        }
    )
    try:
        stack.cli("db", "migrate", timeout=600)
        stack.cli("pools", "set", "nexmo_numbers", "2", "Nexmo Numbers API")
        stack.start_core()
        wait_until(lambda: stack.dag_ids(), timeout=300, what="the DAGs to be parsed", every=3)
        yield stack
    finally:
        stack.close()


@pytest.fixture(scope="module")
def webhook():
    """A loopback webhook for the stack's runs (count-based readiness, see tests/sensors/webhook_server)."""
    with LocalWebhook() as server:
        yield server
