"""Starting the sandbox: in-process, as a subprocess, from the console script; CLI options; handle helpers."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import requests

from airflow_provider_nexmo_numbers.sandbox import SandboxConfig, run_sandbox, run_sandbox_subprocess
from airflow_provider_nexmo_numbers.sandbox.cli import build_parser, config_from_args
from airflow_provider_nexmo_numbers.sandbox.config import FaultSettings

from .conftest import fetch_token

SCRIPT = Path(sys.executable).with_name("nexmo-numbers-sandbox")


def test_in_process_start_is_fast_and_stop_frees_the_port(sandbox_server):
    t0 = time.perf_counter()
    with run_sandbox(SandboxConfig(owned_numbers=100_000)) as sb:
        started = time.perf_counter() - t0
        assert requests.get(sb.url + "/_sandbox/health", timeout=5).json() == {"status": "ok"}
        token = fetch_token(sb)
        page = requests.get(
            sb.base_url + "/account/numbers", headers={"Authorization": f"Bearer {token}"}, timeout=5
        )
        assert page.json()["count"] == 100_000
        url = sb.url
    assert started < 2.0
    with pytest.raises(requests.ConnectionError):
        requests.get(url + "/_sandbox/health", timeout=2)


def test_handle_urls_and_credentials(sandbox):
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", sandbox.url)
    assert sandbox.base_url == sandbox.url + "/communication/nexmo/phone-numbers"
    assert sandbox.token_url == sandbox.url + "/oauth/client_credential/accesstoken"
    assert sandbox.vonage_url == sandbox.url
    assert (sandbox.client_id, sandbox.client_secret) == ("sandbox-client", "sandbox-secret")


def test_connection_json_and_uri(sandbox):
    conn = json.loads(sandbox.connection_json(timeout=5))
    assert conn == {
        "conn_type": "nexmo_numbers",
        "host": sandbox.base_url,
        "login": "sandbox-client",
        "password": "sandbox-secret",
        "extra": {"oauth_url": sandbox.token_url, "timeout": 5},
    }
    vonage = json.loads(sandbox.connection_json(api="vonage"))
    assert (vonage["host"], vonage["extra"]) == (sandbox.vonage_url, {"api": "vonage"})
    uri = urlsplit(sandbox.connection_uri(timeout=5))
    assert uri.scheme == "nexmo-numbers"  # Airflow turns '-' into '_' in the conn type
    assert unquote(uri.netloc.rsplit("@", 1)[1]) == sandbox.base_url  # the host, percent-encoded
    assert parse_qs(uri.query) == {"oauth_url": [sandbox.token_url], "timeout": ["5"]}


def test_subprocess_runner(sandbox_server):
    config = SandboxConfig(seed=9, clients={"sub": "sub-secret"}, owned_numbers=3)
    with run_sandbox_subprocess(config) as sb:
        assert sb.started_in < 10
        assert sb.client_id == "sub"
        token = fetch_token(sb)
        response = requests.get(
            sb.base_url + "/account/numbers", headers={"Authorization": f"Bearer {token}"}, timeout=5
        )
        assert response.json()["count"] == 3
        assert sb.admin.config()["config"]["seed"] == 9
        url = sb.url
    with pytest.raises(requests.ConnectionError):
        requests.get(url + "/_sandbox/health", timeout=2)


def test_console_script_with_port_zero(sandbox_server):
    assert SCRIPT.exists()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [str(SCRIPT), "--port", "0", "--owned", "7", "--client", "cli:cli-secret", "--no-webhook-check"],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        line = proc.stdout.readline()
        match = re.search(r"listening on (http://127\.0\.0\.1:\d+)$", line.strip())
        assert match, line
        url = match.group(1)
        rest = [proc.stdout.readline() for _ in range(6)]
        assert any("AIRFLOW_CONN_NEXMO_NUMBERS_DEFAULT=" in r for r in rest)
        token = requests.post(
            url + "/oauth/client_credential/accesstoken",
            params={"grant_type": "client_credentials"},
            data={"client_id": "cli", "client_secret": "cli-secret"},
            timeout=5,
        ).json()["access_token"]
        body = requests.get(
            url + "/communication/nexmo/phone-numbers/account/numbers",
            headers={"Authorization": f"Bearer {token}"},
            timeout=5,
        ).json()
        assert body["count"] == 7
        assert requests.get(url + "/_sandbox/config", timeout=5).json()["settings"]["webhook_check"] is False
    finally:
        proc.terminate()
        assert proc.wait(10) == 0


def test_console_script_reports_a_busy_port(sandbox_server):
    port = sandbox_server.url.rsplit(":", 1)[1]
    result = subprocess.run([str(SCRIPT), "--port", port], capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert "cannot bind" in result.stderr


def parse(*argv: str) -> SandboxConfig:
    return config_from_args(build_parser().parse_args(list(argv)), list(argv))


def test_cli_options_map_onto_the_config():
    cfg = parse(
        "--host", "0.0.0.0", "--port", "0", "--seed", "3", "--client", "a:1", "--client", "b:2",
        "--owned", "10", "--owned-country", "NL", "--token-ttl", "60", "--quota-rps", "2.5",
        "--fault-rate", "0.1", "--fault-statuses", "502,503", "--retry-after", "0.05",
        "--latency-ms", "20", "--hang-rate", "0.05", "--hang-seconds", "9",
        "--drop-rate", "0.02", "--revoke-rate", "0.01", "--fault-seed", "5", "--no-webhook-check",
        "--address-required", "DE", "--no-vonage",
    )  # fmt: skip
    assert cfg.host == "0.0.0.0" and cfg.port == 0 and cfg.seed == 3  # noqa: PT018
    assert cfg.clients == {"a": "1", "b": "2"}
    assert (cfg.owned_numbers, cfg.owned_country, cfg.token_ttl, cfg.quota_rps) == (10, "NL", 60, 2.5)
    assert (cfg.error_rate, cfg.error_statuses, cfg.latency_ms) == (0.1, (502, 503), 20.0)
    assert cfg.retry_after == 0.05
    assert cfg.fault_settings()["retry_after"] == 0.05
    assert parse().retry_after == 1.0
    assert (cfg.hang_rate, cfg.hang_seconds, cfg.drop_after_commit_rate, cfg.revoke_token_rate) == (
        0.05,
        9,
        0.02,
        0.01,
    )
    assert cfg.fault_seed == 5
    assert cfg.webhook_check is False
    assert cfg.address_required_countries == ("DE",)
    assert cfg.vonage_direct is False


def test_cli_config_json_with_explicit_port():
    cfg = parse("--config-json", SandboxConfig(seed=4, port=1234).to_json(), "--port", "0")
    assert (cfg.seed, cfg.port) == (4, 0)
    assert parse("--config-json", SandboxConfig(port=1234).to_json()).port == 1234


@pytest.mark.parametrize("argv", [["--client", "nosecret"], ["--fault-rate", "1.5"]])
def test_cli_rejects_bad_options(argv):
    with pytest.raises(SystemExit):
        parse(*argv)


def test_config_validation():
    with pytest.raises(ValueError, match="at least one client"):
        SandboxConfig(clients={})
    with pytest.raises(ValueError, match="error_rate"):
        SandboxConfig(error_rate=1.5)
    with pytest.raises(ValueError, match="unknown SandboxConfig field"):
        SandboxConfig.from_dict({"sead": 1})
    cfg = SandboxConfig(error_statuses=[500], address_required_countries=["fr"])
    assert SandboxConfig.from_json(cfg.to_json()) == cfg


def test_config_fault_fields_default_to_the_fault_settings():
    """SandboxConfig spells the fault knobs out as its own fields; a default config starts with no faults."""
    defaults = FaultSettings().to_dict()
    assert SandboxConfig(fault_seed=defaults["seed"]).fault_settings() == defaults


def test_config_faults_apply_at_start():
    with run_sandbox(error_rate=1.0, error_statuses=(503,), quota_rps=100) as sb:
        token = fetch_token(sb)
        response = requests.get(
            sb.base_url + "/account/numbers", headers={"Authorization": f"Bearer {token}"}, timeout=5
        )
        assert response.status_code == 503
        assert response.headers["quota-limit"] == "100"


def test_importing_the_package_is_cheap():
    code = (
        "import sys, airflow_provider_nexmo_numbers.sandbox as s; s.SandboxConfig; "
        "print(any(m in sys.modules for m in ('fastapi', 'uvicorn', 'httpx', 'requests')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert result.stdout.strip() == "False"


def test_the_sandbox_imports_nothing_from_the_provider():
    package = Path(__file__).parents[2] / "airflow_provider_nexmo_numbers" / "sandbox"
    for path in package.glob("*.py"):
        text = path.read_text()
        assert not re.search(
            r"(from|import)\s+airflow_provider_nexmo_numbers\.(client|hooks|operators)", text
        ), path
        assert not re.search(r"from \.\.(client|hooks|operators)", text), path


def test_stopping_does_not_wait_for_a_hung_request(sandbox_server):
    import threading

    result = {}
    with run_sandbox() as sb:
        token = fetch_token(sb)
        sb.admin.queue_fault("hang", seconds=30)
        url = sb.base_url + "/account/numbers"
        thread = threading.Thread(
            target=lambda: result.update(
                r=requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=10)
            )
        )
        thread.start()
        time.sleep(0.2)
        t0 = time.perf_counter()
    stopped_in = time.perf_counter() - t0
    thread.join(5)
    assert stopped_in < 2.0
    assert result["r"].status_code == 504
