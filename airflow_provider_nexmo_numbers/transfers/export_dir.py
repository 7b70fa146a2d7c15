"""Where exports go when a DAG names no directory: ``$AIRFLOW_HOME/nexmo_numbers_exports`` of the worker.

Never a fixed directory such as ``/tmp/nexmo_numbers_exports``, which every deployment and every user on a
machine would share (and read each other's inventory from). Evaluated when a task renders its templates,
on the worker that runs it: give a DAG ``user_defined_macros={"default_export_dir": default_export_dir}``
and write ``path="{{ params.export_dir or default_export_dir() }}/numbers.csv"``. On a cluster, where a
local file lands on whichever worker ran the task, set an object-storage URL instead (docs/deployment.md).
"""

from __future__ import annotations

import os

SUBDIRECTORY = "nexmo_numbers_exports"


def default_export_dir() -> str:
    """``$AIRFLOW_HOME/nexmo_numbers_exports``, with Airflow's own default home (``~/airflow``) if unset."""
    home = os.environ.get("AIRFLOW_HOME") or os.path.expanduser("~/airflow")
    return os.path.join(home, SUBDIRECTORY)
