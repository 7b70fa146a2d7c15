"""A real Airflow deployment on this machine, for the deployment tests: separate processes, PostgreSQL.

`AirflowStack` owns a temporary AIRFLOW_HOME, a fresh PostgreSQL database (created here, dropped on close),
free ports for the api-server and every log server, and the processes it starts (api-server, scheduler,
dag-processor, triggerer, Celery workers). Every process gets the same environment, as one deployment's
configuration would; every wait is bounded and says what it waited for; `close()` stops only the process
groups it started (SIGTERM, then SIGKILL) and drops the database.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import requests

REPO = Path(__file__).resolve().parents[2]
AIRFLOW = str(Path(sys.executable).with_name("airflow"))
PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "dbname": "test"}
REDIS = ("127.0.0.1", 6379)
TERMINAL_RUN_STATES = {"success", "failed"}


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(condition: Callable[[], Any], *, timeout: float, what: str, every: float = 1.0) -> Any:
    """Poll `condition` until it returns something truthy; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


def _admin_sql(statement: str) -> None:
    import psycopg2

    connection = psycopg2.connect(**PG)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement)
    finally:
        connection.close()


class AirflowStack:
    def __init__(self, home: Path, *, executor: str, extra_env: dict[str, str] | None = None) -> None:
        self.home = home
        self.database = f"nexmo_deploy_{uuid.uuid4().hex[:10]}"
        self.api_port = free_port()
        self.api_url = f"http://127.0.0.1:{self.api_port}"
        self.processes: dict[str, subprocess.Popen] = {}
        self._token: str | None = None
        _admin_sql(f'CREATE DATABASE "{self.database}"')
        self.db_url = f"postgresql://postgres@127.0.0.1:5432/{self.database}"
        inherited = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "_AIRFLOW"))}
        self.env = {
            **inherited,
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__EXECUTOR": executor,
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"postgresql+psycopg2://postgres@127.0.0.1:5432/{self.database}",
            "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "example_dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",  # unpaused: scheduled runs start at once
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.api_url}/execution/",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__API__PORT": str(self.api_port),
            "AIRFLOW__API__BASE_URL": self.api_url,
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(16),
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "60",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD": "60",
            "PYTHONUNBUFFERED": "1",
            **(extra_env or {}),
        }

    # -- processes ----------------------------------------------------------------------------------------

    def cli(self, *args: str, timeout: float = 300, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [AIRFLOW, *args], env=self.env, capture_output=True, text=True, timeout=timeout, check=False
        )
        if check and done.returncode != 0:
            raise RuntimeError(
                f"airflow {' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
            )
        return done

    def start(self, name: str, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
        """Start `airflow <args>` in its own process group, its output in `<home>/<name>.out`."""
        out = open(self.home / f"{name}.out", "wb")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(
            [AIRFLOW, *args],
            env={**self.env, **(env or {})},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        out.close()
        self.processes[name] = process
        return process

    def output(self, name: str) -> str:
        return (self.home / f"{name}.out").read_text(errors="replace")

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Signal the whole process group of `name` (a worker and every task process it forked)."""
        process = self.processes[name]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=30)

    def close(self) -> None:
        for process in self.processes.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        for process in self.processes.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=10)
        with contextlib.suppress(Exception):
            _admin_sql(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')

    def start_core(self) -> None:
        """api-server, then scheduler, dag-processor and triggerer, as four processes.

        The api-server first: task processes and the triggerer report to its execution API, so a task the
        scheduler queued before it answers would fail with "connection refused"."""
        self.start("api-server", "api-server", "--host", "127.0.0.1", "--port", str(self.api_port))
        wait_until(self._api_healthy, timeout=240, what="the api-server to answer", every=2)
        self.start("dag-processor", "dag-processor")
        self.start("triggerer", "triggerer")
        self.start("scheduler", "scheduler")

    def _api_healthy(self) -> bool:
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}:\n{self.output(name)[-4000:]}")
        try:
            return requests.get(f"{self.api_url}/api/v2/monitor/health", timeout=5).status_code == 200
        except requests.RequestException:
            return False

    # -- REST API -----------------------------------------------------------------------------------------

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        if self._token is None:
            self._token = requests.get(f"{self.api_url}/auth/token", timeout=30).json()["access_token"]
        response = requests.request(
            method,
            f"{self.api_url}/api/v2{path}",
            headers={"Authorization": f"Bearer {self._token}"},
            timeout=60,
            **kwargs,
        )
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {path}: HTTP {response.status_code}: {response.text[:2000]}")
        return response.json() if response.content else None

    def dag_ids(self) -> set[str]:
        return {d["dag_id"] for d in self.api("GET", "/dags", params={"limit": 100})["dags"]}

    def import_errors(self) -> list[dict]:
        return self.api("GET", "/importErrors")["import_errors"]

    def trigger(self, dag_id: str, conf: dict | None = None) -> str:
        """A manual run as the REST API creates it without a logical date; returns its run_id."""
        run = self.api("POST", f"/dags/{dag_id}/dagRuns", json={"logical_date": None, "conf": conf or {}})
        return run["dag_run_id"]

    def runs(self, dag_id: str) -> list[dict]:
        return self.api("GET", f"/dags/{dag_id}/dagRuns", params={"limit": 100})["dag_runs"]

    def run_state(self, dag_id: str, run_id: str) -> str:
        return self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}")["state"]

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float = 600) -> str:
        return wait_until(
            lambda: (state := self.run_state(dag_id, run_id)) in TERMINAL_RUN_STATES and state,
            timeout=timeout,
            what=f"{dag_id} run {run_id} to finish",
            every=3,
        )

    def task_instances(self, dag_id: str, run_id: str) -> list[dict]:
        return self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances", params={"limit": 200})[
            "task_instances"
        ]

    def states(self, dag_id: str, run_id: str) -> dict[tuple[str, int], str]:
        return {(t["task_id"], t["map_index"]): t["state"] for t in self.task_instances(dag_id, run_id)}

    def xcom(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> Any:
        entry = self.api(
            "GET",
            f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/return_value",
            params={"map_index": map_index, "deserialize": True},
        )
        value = entry["value"]
        return json.loads(value) if isinstance(value, str) else value

    def task_logs(self) -> Iterator[tuple[Path, str]]:
        for path in sorted((self.home / "logs").rglob("*.log")):
            yield path, path.read_text(errors="replace")
