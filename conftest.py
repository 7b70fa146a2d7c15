"""Test-session setup shared by every test: an isolated Airflow home before anything imports Airflow.

Airflow reads AIRFLOW_HOME and its config on first import, so this must happen here, at the rootdir conftest,
before a test module or fixture module imports `airflow`.
"""

from __future__ import annotations

import os
import tempfile

_AIRFLOW_HOME = tempfile.mkdtemp(prefix="nexmo-numbers-airflow-home-")
os.environ["AIRFLOW_HOME"] = _AIRFLOW_HOME
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "False")
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{_AIRFLOW_HOME}/airflow.db"

pytest_plugins = [
    "tests.fixtures.sandbox",
    "tests.fixtures.airflow",
    "tests.fixtures.airflow_db",
    "tests.fixtures.ledger",
]
