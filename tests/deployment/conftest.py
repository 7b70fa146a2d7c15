"""Fixtures of the deployment tests: a real Airflow stack per test module, skipped where a service is absent.

These tests start real processes on this machine (see stack.py) and take minutes, so each module builds one
stack and its tests share it, in file order.
"""

from __future__ import annotations

import pytest

from tests.deployment.stack import PG, REDIS, port_open
from tests.sensors.webhook_server import LocalWebhook


def require_postgres() -> None:
    if not port_open(PG["host"], PG["port"]):
        pytest.skip(f"PostgreSQL is not reachable on {PG['host']}:{PG['port']} (the metadata database)")


def require_redis() -> None:
    if not port_open(*REDIS):
        pytest.skip(f"Redis is not reachable on {REDIS[0]}:{REDIS[1]} (the Celery broker)")
    pytest.importorskip("airflow.providers.celery", reason="apache-airflow-providers-celery is not installed")


@pytest.fixture(scope="module")
def webhook():
    """A loopback webhook for the stack's runs (count-based readiness, see tests/sensors/webhook_server)."""
    with LocalWebhook() as server:
        yield server
