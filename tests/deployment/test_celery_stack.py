"""A mapped campaign on a CeleryExecutor deployment with two workers, one of them killed mid-run.

Redis (127.0.0.1:6379, DB 7, a queue unique to this run) is the broker; PostgreSQL holds Airflow's metadata,
Celery's results and the provider's ledger (connection ``nexmo_numbers_ledger``). The sandbox answers every
API call after 1.5 s, so buys are in flight when worker 1's whole process group is SIGKILLed (a machine
dying). Its task instances hold their pool slots until the scheduler misses their heartbeat (lowered to
20 s here), then they are retried on worker 2, which starts after the kill; messages worker 1 had taken are
re-queued by the queued-task timeout. The run must succeed with six distinct numbers, none bought twice.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from tests.deployment.conftest import require_postgres, require_redis
from tests.deployment.stack import REDIS, AirflowStack, free_port, wait_until
from tests.fixtures.airflow import nexmo_connection_json

pytestmark = [pytest.mark.deployment, pytest.mark.timeout(1500)]

DAG_ID = "nexmo_deploy_mapped_campaign"
NUMBERS = 6


@pytest.fixture(scope="module")
def stack(tmp_path_factory, sandbox_server):
    require_postgres()
    require_redis()
    sandbox_server.admin.reset()
    home = tmp_path_factory.mktemp("airflow-celery-stack")
    queue = f"nexmo_deploy_{uuid.uuid4().hex[:8]}"
    stack = AirflowStack(home, executor="CeleryExecutor")
    ledger = {"conn_type": "postgres", "host": "127.0.0.1", "port": 5432, "login": "postgres"}
    stack.env.update(
        {
            "AIRFLOW__CORE__DAGS_FOLDER": str(Path(__file__).parent / "dags"),
            "AIRFLOW__CELERY__BROKER_URL": f"redis://{REDIS[0]}:{REDIS[1]}/7",
            "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + stack.db_url,
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2",
            "AIRFLOW__CELERY__WORKER_PREFETCH_MULTIPLIER": "1",
            "AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__VISIBILITY_TIMEOUT": "60",
            "AIRFLOW__OPERATORS__DEFAULT_QUEUE": queue,  # never another run's workers or tasks
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "20",
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
            "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": "60",
            "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT_CHECK_INTERVAL": "10",
            "AIRFLOW_CONN_NEXMO_NUMBERS_DEFAULT": nexmo_connection_json(sandbox_server),
            "AIRFLOW_CONN_NEXMO_NUMBERS_LEDGER": json.dumps({**ledger, "schema": stack.database}),
        }
    )
    stack.queue = queue
    try:
        stack.cli("db", "migrate", timeout=600)
        stack.cli("pools", "set", "nexmo_numbers", "2", "Nexmo Numbers API")
        stack.start_core()
        wait_until(lambda: DAG_ID in stack.dag_ids(), timeout=300, what="the test DAG to be parsed", every=3)
        yield stack
    finally:
        stack.close()


def _worker(stack: AirflowStack, name: str) -> None:
    stack.start(
        name,
        "celery",
        "worker",
        "--queues",
        stack.queue,
        "--concurrency",
        "2",
        "--celery-hostname",
        f"{name}@%h",
        "--without-mingle",
        "--without-gossip",
        env={"AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port())},
    )


def test_a_worker_killed_mid_run_loses_nothing_and_buys_nothing_twice(stack, sandbox_server):
    sandbox_server.admin.set_faults(latency_ms=1500)  # every API call in flight for 1.5 s
    _worker(stack, "worker-1")
    run_id = stack.trigger(DAG_ID)

    def buys_in_flight() -> list[dict]:
        running = [t for t in stack.task_instances(DAG_ID, run_id) if t["state"] == "running"]
        return running if running and sandbox_server.admin.stats()["purchases"] else []

    in_flight = wait_until(
        buys_in_flight, timeout=600, what="buys running on worker 1 after a first purchase", every=1
    )
    stack.kill("worker-1")  # the whole process group: the worker and every task it was running
    _worker(stack, "worker-2")

    state = stack.wait_for_run(DAG_ID, run_id, timeout=900)
    sandbox_server.admin.set_faults()

    instances = stack.task_instances(DAG_ID, run_id)
    assert state == "success", [(t["map_index"], t["state"], t["try_number"]) for t in instances]
    killed = {t["map_index"] for t in in_flight}
    retried = {t["map_index"] for t in instances if t["try_number"] > 1}
    assert killed <= retried  # what worker 1 was running ran again, on worker 2
    bought = [stack.xcom(DAG_ID, run_id, "buy", i)["msisdn"] for i in range(NUMBERS)]
    assert len(set(bought)) == NUMBERS  # nothing lost: six instances, six numbers
    stats = sandbox_server.admin.stats()
    assert sorted(stats["purchases"]) == sorted(bought)  # nothing bought that is not accounted for
    assert set(stats["purchases"].values()) == {1}  # nothing bought twice
    assert sorted(n["msisdn"] for n in sandbox_server.admin.owned()) == sorted(bought)
