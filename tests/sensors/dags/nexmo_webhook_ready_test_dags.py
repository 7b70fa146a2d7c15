"""DAGs the webhook-readiness sensor tests run with `dag.test()`, one per mode.

The first task asks the test for the webhook URL (see tests/sensors/dag_hooks.py); the sensor gets
it through a template, which also exercises validation after rendering.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, task

from airflow_provider_nexmo_numbers.sensors.webhook_ready import NexmoWebhookReadySensor


def _build(dag_id: str, **sensor_kwargs) -> DAG:
    with DAG(dag_id, schedule=None, start_date=pendulum.datetime(2024, 1, 1), catchup=False) as dag:

        @task
        def make_hook() -> str:
            from tests.sensors.dag_hooks import make_hook_url

            return make_hook_url()

        make_hook() >> NexmoWebhookReadySensor(
            task_id="wait",
            url="{{ ti.xcom_pull(task_ids='make_hook') }}",
            request_timeout=2,
            **sensor_kwargs,
        )
    return dag


poke_dag = _build("nexmo_webhook_ready_poke", mode="poke", poke_interval=0.1, timeout=60)
reschedule_dag = _build("nexmo_webhook_ready_reschedule", mode="reschedule", poke_interval=1, timeout=60)
deferrable_dag = _build("nexmo_webhook_ready_deferrable", deferrable=True, poke_interval=0.1, timeout=60)
never_ready_deferrable_soft_fail_dag = _build(
    "nexmo_webhook_never_ready_deferrable_soft_fail",
    deferrable=True,
    poke_interval=0.5,
    timeout=3,
    soft_fail=True,
)
never_ready_poke_dag = _build("nexmo_webhook_never_ready_poke", mode="poke", poke_interval=0.5, timeout=2)
