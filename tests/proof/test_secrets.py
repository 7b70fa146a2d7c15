"""Secrets stay secret: the client secret and every access token appear in no output and no log file, and a
plain-http:// non-loopback host is refused before any request.

The first test runs a campaign DAG the way Airflow runs tasks in production, without a scheduler: an
`airflow api-server` (Execution API) in the background and `dag.test(use_executor=True)`, so each task runs
under the LocalExecutor in its own supervised process and writes its log file as Airflow writes it, masking
active. A sandbox of its own gets a client secret made up for this run; its admin API lists every access
token it issued (`sb.admin.tokens()`, revoked ones included). A token revoked mid-run makes the ensure task
fetch a second one. Then everything is searched: the test's captured stdout/stderr (the executor's and
the task processes' console output), the api-server's output and every file under $AIRFLOW_HOME/logs.

A control task logs the secret and its token outright, as careless user code might: its log file must show
`***` (the hook registered both with Airflow's masker). The LocalExecutor's console echo of task log lines is
not masked (an Airflow behaviour), so only the control's own echoed lines are left out of the console search.
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
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from airflow_provider_nexmo_numbers.client.errors import NexmoValidationError
from airflow_provider_nexmo_numbers.hooks.nexmo_numbers import NexmoNumbersHook
from airflow_provider_nexmo_numbers.operators.list_owned import NexmoListOwnedNumbersOperator
from airflow_provider_nexmo_numbers.sandbox import SandboxConfig, run_sandbox
from tests.fixtures.airflow import conn_env_var, nexmo_connection_json, set_nexmo_connection
from tests.fixtures.airflow_db import return_value
from tests.proof.conftest import load_dag, task_states

CONN_ID = "nexmo_proof_secrets"
CLIENT_ID = "proof-client"
API_SERVER_START = 120.0  # seconds; about 10-20 s on a 2-core machine


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def api_server(env: dict[str, str], port: int, out_dir: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`airflow api-server` on 127.0.0.1:`port`, ready (health answers) or the test is skipped; stopped by
    its PID (and its own process group: uvicorn's worker) afterwards."""
    airflow_cli = str(Path(sys.executable).with_name("airflow"))
    cmd = [airflow_cli, "api-server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    with open(out_dir / "api-server.out", "wb") as out, open(out_dir / "api-server.err", "wb") as err:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=err, start_new_session=True)
    try:
        deadline = time.monotonic() + API_SERVER_START
        health = f"http://127.0.0.1:{port}/api/v2/monitor/health"
        while True:
            if proc.poll() is not None:
                tail = (out_dir / "api-server.err").read_text(errors="replace")[-2000:]
                pytest.skip(f"airflow api-server exited with {proc.returncode} before it was ready:\n{tail}")
            try:
                if requests.get(health, timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                pytest.skip(f"airflow api-server not healthy at {health} within {API_SERVER_START:.0f} s")
            time.sleep(0.5)
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)


def _context(text: str, value: str, width: int = 300) -> str:
    """Where `value` first appears in `text`, with the value itself replaced (the report must not leak)."""
    at = text.index(value)
    return text[max(0, at - width) : at + len(value) + 80].replace(value, "<LEAKED>")


def _without_control_echo(console: str) -> str:
    """The console minus the control task's lines: the LocalExecutor echoes task log lines to the console
    unmasked (Airflow's behaviour, see the provider notes), so the control's deliberate leak shows there; no
    other line may carry a secret."""
    return "\n".join(line for line in console.splitlines() if "task_id=careless_logging" not in line)


def _texts(paths: list[Path]) -> dict[str, str]:
    return {str(p): p.read_bytes().decode("utf-8", "replace") for p in paths if p.is_file()}


@pytest.mark.airflow_db
@pytest.mark.timeout(300)
def test_no_secret_or_token_in_any_output_or_task_log(proof_dags, monkeypatch, tmp_path, capfd):
    secret = "proof-secret-" + secrets.token_urlsafe(24)
    home = Path(os.environ["AIRFLOW_HOME"])
    port = _free_port()
    settings = {
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(64),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "2",  # the LocalExecutor forks this many workers up front
    }
    with run_sandbox(SandboxConfig(clients={CLIENT_ID: secret}, seed=11, webhook_allow_loopback=True)) as sb:
        monkeypatch.setenv(conn_env_var(CONN_ID), nexmo_connection_json(sb, max_retries=3))
        for name, value in settings.items():
            monkeypatch.setenv(name, value)
        hook_url = sb.admin.webhook_url("proof-secrets", ready_after=0)
        sb.admin.queue_fault("revoke_token", operation="POST /number/update")  # a second token mid-run
        dag = load_dag("nexmo_proof_secrets")

        with api_server(os.environ.copy(), port, tmp_path):
            dag_run = dag.test(run_conf={"hook": hook_url, "count": 3}, use_executor=True)
        captured = capfd.readouterr()
        stats = sb.admin.stats()
        issued = sb.admin.tokens()

    states = task_states(dag_run)
    assert dag_run.state == "success", states
    assert len(return_value(dag_run, "list_numbers")) == 3
    issued_tokens = [token["access_token"] for token in issued]
    assert len(issued_tokens) >= 4, issued  # one per task process, plus one after the revocation
    assert any(token["revoked"] for token in issued), issued
    assert stats["tokens_issued"] == len(issued_tokens)

    log_files = [p for p in (home / "logs").rglob("*") if p.is_file()]
    task_logs = [
        p for p in log_files if "dag_id=nexmo_proof_secrets" in str(p) and p.name.startswith("attempt=")
    ]
    tasks = {"task_id=ensure_numbers", "task_id=list_numbers", "task_id=careless_logging"}
    assert {p.parent.name for p in task_logs} >= tasks, task_logs
    texts = {
        "stdout": _without_control_echo(captured.out),
        "stderr": _without_control_echo(captured.err),
        **_texts([tmp_path / "api-server.out", tmp_path / "api-server.err"]),
        **_texts(log_files),
    }
    logs_of = {p.parent.name.removeprefix("task_id="): texts[str(p)] for p in task_logs}
    assert "Campaign plan" in logs_of["ensure_numbers"]  # really the task's own log, as the task wrote it
    # The control: a task logging both outright shows them masked (hook: mask_secret on secret and token).
    assert "careless: the client secret is ***" in logs_of["careless_logging"]
    assert "careless: the access token is ***" in logs_of["careless_logging"]
    for value, what in [
        (secret, "client secret"),
        *((t, f"access token #{i}") for i, t in enumerate(issued_tokens)),
    ]:
        leaks = {where: _context(text, value) for where, text in texts.items() if value in text}
        assert not leaks, f"the {what} appears in {leaks}"


# -- plain http to a non-loopback host --------------------------------------------------------------------


def _assert_nothing_sent(sb: Any) -> None:
    stats = sb.admin.stats()
    assert stats["token_requests"] == 0, stats["requests"]
    assert stats["api_requests"] == 0, stats["requests"]


@pytest.mark.parametrize(
    ("overrides", "field", "host"),
    [
        ({"host": "http://api.example.com/communication/nexmo/phone-numbers"}, "host", "api.example.com"),
        ({"host": "http://10.1.2.3:8080/numbers"}, "host", "10.1.2.3"),
        ({"token_url": "http://auth.example.com/oauth/client_credential/accesstoken"}, "token_url", "auth."),
    ],
    ids=["host-name", "host-private-ip", "token-url"],
)
def test_plain_http_to_a_remote_host_is_refused_before_any_request(
    sandbox, monkeypatch, overrides, field, host
):
    set_nexmo_connection(monkeypatch, "nexmo_proof_http", sandbox, **overrides)
    hook = NexmoNumbersHook("nexmo_proof_http")

    with pytest.raises(NexmoValidationError) as raised:
        hook.list_owned_numbers()
    ok, message = NexmoNumbersHook("nexmo_proof_http").test_connection()
    op = NexmoListOwnedNumbersOperator(task_id="list", nexmo_conn_id="nexmo_proof_http")
    with pytest.raises(NexmoValidationError):
        op.execute({})

    assert field in raised.value.field
    assert host in str(raised.value)
    assert "https" in str(raised.value)
    assert not ok
    assert field in message
    for text in (str(raised.value), message):
        assert sandbox.client_secret not in text
    _assert_nothing_sent(sandbox)


def test_plain_http_to_loopback_is_allowed_for_the_sandbox(sandbox, nexmo_conn):
    """The counterpart: the same check lets the local sandbox through (it is how every other test runs)."""
    assert json.loads(os.environ[conn_env_var(nexmo_conn)])["host"].startswith("http://127.0.0.1:")
    ok, message = NexmoNumbersHook(nexmo_conn).test_connection()
    assert ok, message
    assert sandbox.admin.stats()["token_requests"] == 1
