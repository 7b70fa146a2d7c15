"""Helpers for the operator tests: a stand-in for Airflow's task state store and small sandbox look-ups.

The operators run against the sandbox over HTTP (fixtures `sandbox` and `nexmo_conn` from tests/fixtures). The
only stand-in is `DictTaskStateStore`: outside a real task run there is no `task_state_store` in the context,
and the sandbox cannot provide one. The real store is exercised by the `dag.test()` tests.
"""

from __future__ import annotations

from typing import Any

import pytest


class DictTaskStateStore:
    """Same `get`/`set` surface as Airflow's TaskStateStoreAccessor, kept in a dict (survives "tries")."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def set(self, key: str, value: Any, *, retention: Any = None) -> None:
        if value is None:
            raise ValueError("Cannot set value as None")
        self.data[key] = value


@pytest.fixture
def task_store() -> DictTaskStateStore:
    return DictTaskStateStore()


def task_instance(map_index: int = -1, run_id: str = "manual__1", task_id: str = "buy") -> Any:
    """What the ledger reads of a task instance in the context (``ti``): Airflow's own key tuple, which
    carries dag_id, task_id, run_id and map_index and stays the same across tries."""
    from airflow.models.taskinstancekey import TaskInstanceKey

    return TaskInstanceKey("ledger_tests", task_id, run_id, 1, map_index)


def total(counter: dict[str, int]) -> int:
    return sum(counter.values())
