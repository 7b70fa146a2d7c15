"""One task try in its own process, for the race and kill tests: ``python -m tests.ledger.worker SPEC``.

SPEC (JSON): ``operator`` (``buy`` or ``ensure``), ``kwargs`` for it, ``ti`` ([dag_id, task_id, run_id,
map_index]: the task instance, so that tries of one instance share their ledger owner), ``go_file`` (wait
until it exists, bounded, so that every racer has imported Airflow before any of them starts) and optionally
``pause_at`` (``mark_buying``: between claim and buy; ``record_purchase``: between buy and record) with
``pause_file``: there the process writes ``pause_file`` and sleeps until the test SIGKILLs it. That pause is
the only thing patched: the timing of a kill is what neither the sandbox nor the ledger can produce.

Prints one line ``RESULT <json>`` or ``ERROR <json>`` (exception type and message).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any


def _pause_before(method: str, pause_file: str) -> None:
    from airflow_provider_nexmo_numbers.ledger.core import Ledger

    original = getattr(Ledger, method)

    def paused(self: Any, *args: Any, **kwargs: Any) -> Any:
        Path(pause_file).write_text(method)
        time.sleep(120)  # the test kills the process here
        return original(self, *args, **kwargs)

    setattr(Ledger, method, paused)


def main(spec: dict[str, Any]) -> None:
    from airflow.models.taskinstancekey import TaskInstanceKey

    if spec["operator"] == "buy":
        from airflow_provider_nexmo_numbers.operators.buy import NexmoBuyNumberOperator as Operator
    else:
        from airflow_provider_nexmo_numbers.operators.ensure import NexmoEnsureNumbersOperator as Operator
    dag_id, task_id, run_id, map_index = spec["ti"]
    operator = Operator(task_id=task_id, **spec["kwargs"])
    context = {"ti": TaskInstanceKey(dag_id, task_id, run_id, 1, map_index)}
    if spec.get("pause_at"):
        _pause_before(spec["pause_at"], spec["pause_file"])
    deadline = time.monotonic() + 60
    while not Path(spec["go_file"]).exists():
        if time.monotonic() > deadline:
            raise SystemExit("go file never appeared")
        time.sleep(0.01)
    try:
        result = operator.execute(context)
    except Exception as err:
        print("ERROR " + json.dumps({"type": type(err).__name__, "message": str(err)}), flush=True)
        return
    print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
