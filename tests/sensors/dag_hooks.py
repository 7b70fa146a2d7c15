"""Hand-off between a test and its `dag.test()` run: the test installs a webhook-URL factory here, and the
DAG's first task calls it at run time, so the delayed webhook's clock starts when the DAG is actually running
(not during the seconds `dag.test()` spends parsing and syncing). `dag.test()` runs tasks in this process.
"""

from __future__ import annotations

from collections.abc import Callable

_factory: Callable[[], str] | None = None


def install(factory: Callable[[], str] | None) -> None:
    global _factory
    _factory = factory


def make_hook_url() -> str:
    if _factory is None:
        raise RuntimeError("no webhook factory installed; this DAG only runs inside the sensor tests")
    return _factory()
