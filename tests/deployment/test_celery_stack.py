"""A mapped campaign on a CeleryExecutor deployment with two workers, one of them killed mid-run.

The shared stack (conftest) has CeleryExecutor beside LocalExecutor; this DAG's tasks ask for Celery. Redis
(127.0.0.1:6379, DB 7, a queue unique to this run) is the broker; PostgreSQL holds Airflow's metadata,
Celery's results and the provider's ledger (connection ``nexmo_numbers_ledger``). The sandbox answers every
API call after 1.5 s, so buys are in flight when worker 1's whole process group is SIGKILLed (a machine
dying). Its task instances hold their pool slots until the scheduler misses their heartbeat (lowered to
20 s here), then they are retried on worker 2, which starts after the kill; messages worker 1 had taken are
re-queued by the queued-task timeout. The run must succeed with six distinct numbers, none bought twice.
"""

from __future__ import annotations

import pytest

from tests.deployment.stack import AirflowStack, free_port, wait_until

pytestmark = [pytest.mark.deployment, pytest.mark.timeout(1500)]

DAG_ID = "nexmo_deploy_mapped_campaign"
NUMBERS = 6


@pytest.fixture(scope="module", autouse=True)
def celery(stack, sandbox_server):
    if stack.celery_missing:
        pytest.skip(stack.celery_missing)
    sandbox_server.admin.reset()
    wait_until(lambda: DAG_ID in stack.dag_ids(), timeout=300, what="the test DAG to be parsed", every=3)


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

    wait_until(buys_in_flight, timeout=600, what="buys running on worker 1 after a first purchase", every=1)
    stack.kill("worker-1")  # the whole process group: the worker and every task it was running
    _worker(stack, "worker-2")

    state = stack.wait_for_run(DAG_ID, run_id, timeout=900)
    sandbox_server.admin.set_faults()

    instances = stack.task_instances(DAG_ID, run_id)
    assert state == "success", [(t["map_index"], t["state"], t["try_number"]) for t in instances]
    retried = {t["map_index"] for t in instances if t["try_number"] > 1}
    assert retried  # the kill hit buys in flight (an instance running then may also have just finished)
    bought = [stack.xcom(DAG_ID, run_id, "buy", i)["msisdn"] for i in range(NUMBERS)]
    assert len(set(bought)) == NUMBERS  # nothing lost: six instances, six numbers
    stats = sandbox_server.admin.stats()
    assert sorted(stats["purchases"]) == sorted(bought)  # nothing bought that is not accounted for
    assert set(stats["purchases"].values()) == {1}  # nothing bought twice
    assert sorted(n["msisdn"] for n in sandbox_server.admin.owned()) == sorted(bought)
