"""TLS for the sandbox: https with a certificate generated at start, verified by clients, removed at stop.

Also the provider's own client and hook against the https sandbox: they work when told to trust the
sandbox's certificate (`verify_ssl=<ca path>`), and fail clearly, without retrying, when they are not.
"""

from __future__ import annotations

import json
import os
import re
import ssl
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import requests

from airflow_provider_nexmo_numbers.client import NexmoNumbersClient, NexmoTransportError
from airflow_provider_nexmo_numbers.sandbox import SandboxConfig, run_sandbox, run_sandbox_subprocess
from airflow_provider_nexmo_numbers.sandbox.tls import write_self_signed

from .conftest import SUCCESS, new_session

SCRIPT = Path(sys.executable).with_name("nexmo-numbers-sandbox")


def get_health(url: str, verify: bool | str) -> requests.Response:
    with new_session() as session:
        return session.get(url + "/_sandbox/health", verify=verify, timeout=5)


def test_tls_sandbox_serves_https_verified_by_its_certificate(tls_sandbox):
    sb = tls_sandbox
    assert re.fullmatch(r"https://127\.0\.0\.1:\d+", sb.url)
    assert sb.base_url == sb.url + "/communication/nexmo/phone-numbers"
    assert sb.rest_host == sb.url.removeprefix("https://")
    assert Path(sb.ca_bundle).read_text().startswith("-----BEGIN CERTIFICATE-----")
    assert get_health(sb.url, sb.ca_bundle).json() == {"status": "ok"}
    # valid for localhost too
    assert get_health(sb.url.replace("127.0.0.1", "localhost"), sb.ca_bundle).status_code == 200
    # the admin client verifies with the certificate as well
    assert sb.admin.health() == {"status": "ok"}
    assert sb.admin.stats()["api_requests"] == 0


def test_tls_certificate_passes_strict_verification(tls_sandbox):
    """Python 3.13 verifies with OpenSSL's strict X.509 mode by default; the certificate must pass it."""
    context = ssl.create_default_context(cafile=tls_sandbox.ca_bundle)
    context.verify_flags |= ssl.VERIFY_X509_STRICT
    with httpx.Client(verify=context, trust_env=False) as client:
        assert client.get(tls_sandbox.url + "/_sandbox/health").status_code == 200


def test_tls_sandbox_is_not_trusted_by_default(tls_sandbox):
    with pytest.raises(requests.exceptions.SSLError, match="CERTIFICATE_VERIFY_FAILED"):
        get_health(tls_sandbox.url, True)


def test_plain_http_stays_the_default(sandbox):
    assert sandbox.url.startswith("http://")
    assert sandbox.ca_bundle is None
    assert SandboxConfig().tls is False


def test_generated_certificate_is_removed_at_stop():
    with run_sandbox(tls=True) as sb:
        ca_bundle = Path(sb.ca_bundle)
        assert ca_bundle.is_file()
        key = ca_bundle.with_name("key.pem")
        assert key.stat().st_mode & 0o077 == 0  # the key is private to its owner
        assert sb.started_in < 2.0
    assert not ca_bundle.parent.exists()


def test_own_certificate_files(tmp_path):
    certfile, keyfile = write_self_signed(tmp_path)
    config = SandboxConfig(ssl_certfile=certfile, ssl_keyfile=keyfile)
    assert config.tls is True  # a certificate implies TLS
    with run_sandbox(config) as sb:
        assert sb.url.startswith("https://")
        assert sb.ca_bundle == certfile
        assert get_health(sb.url, certfile).status_code == 200
    assert Path(certfile).exists() and Path(keyfile).exists()  # not ours to delete  # noqa: PT018
    with pytest.raises(ValueError, match="ssl_keyfile needs ssl_certfile"):
        SandboxConfig(ssl_keyfile=keyfile)


def test_tls_subprocess_runner():
    with run_sandbox_subprocess(tls=True, owned_numbers=2) as sb:
        assert sb.url.startswith("https://")
        with new_session() as session:
            response = session.get(
                sb.vonage_url + "/account/numbers",
                auth=(sb.client_id, sb.client_secret),
                verify=sb.ca_bundle,
                timeout=5,
            )
        assert response.json()["count"] == 2
        ca_dir = Path(sb.ca_bundle).parent
    assert not ca_dir.exists()


def test_console_script_with_tls():
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    argv = [str(SCRIPT), "--port", "0", "--tls", "--no-webhook-check"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, env=env)
    try:
        lines = [proc.stdout.readline() for _ in range(8)]
        url = re.search(r"listening on (https://127\.0\.0\.1:\d+)$", lines[0].strip()).group(1)
        ca_bundle = re.search(r"CA bundle\s+(\S+)", "".join(lines)).group(1)
        conn = json.loads(re.search(r"AIRFLOW_CONN_NEXMO_NUMBERS_DEFAULT='(.*)'", "".join(lines)).group(1))
        assert conn["extra"]["verify_ssl"] == ca_bundle
        assert get_health(url, ca_bundle).status_code == 200
    finally:
        proc.terminate()
        assert proc.wait(10) == 0
    assert not Path(ca_bundle).parent.exists()


def test_console_script_rejects_a_missing_certificate():
    result = subprocess.run(
        [str(SCRIPT), "--port", "0", "--ssl-certfile", "/nonexistent/cert.pem"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "no such certificate/key file: /nonexistent/cert.pem" in result.stderr


def test_webhook_check_trusts_the_sandboxs_own_certificate(tls_sandbox):
    """An https sandbox checks its own demo webhook (https too) when an update sets it as moHttpUrl."""
    sb = tls_sandbox
    hook = sb.admin.webhook_url("tls", ready_after=0)
    assert hook.startswith("https://")
    msisdn = sb.admin.pool("GB")[0]["msisdn"]
    auth = (sb.client_id, sb.client_secret)
    with new_session() as session:
        session.verify = sb.ca_bundle
        assert session.post(sb.url + "/number/buy", data={"country": "GB", "msisdn": msisdn}, auth=auth).ok
        data = {"country": "GB", "msisdn": msisdn, "moHttpUrl": hook}
        response = session.post(sb.url + "/number/update", data=data, auth=auth, timeout=5)
    assert response.json() == SUCCESS, response.headers.get("x-sandbox-reason")
    assert sb.admin.stats()["webhook_checks"] == {"passed": 1}


# --- the provider's client and hook over TLS ---


def make_client(sb, verify_ssl: bool | str) -> NexmoNumbersClient:
    return NexmoNumbersClient(
        sb.client_id,
        sb.client_secret,
        base_url=sb.base_url,
        token_url=sb.token_url,
        verify_ssl=verify_ssl,
        rate_limit=0,
        timeout=5,
        max_retries=2,
    )


def test_client_works_over_tls_with_the_sandboxs_ca(tls_sandbox):
    with make_client(tls_sandbox, tls_sandbox.ca_bundle) as client:
        number = client.search_available_numbers("NL", size=1).numbers[0]
        assert client.buy_number("NL", number.msisdn).to_dict()["already_owned"] is False
        owned = client.update_number("NL", number.msisdn, voice_status_callback="https://hooks.example.com/s")
        assert owned.voice_status_callback == "https://hooks.example.com/s"
        assert [n.msisdn for n in client.iter_owned_numbers()] == [number.msisdn]
    stats = tls_sandbox.admin.stats()
    assert stats["purchases"] == {number.msisdn: 1}
    assert stats["token_requests"] == 1


def test_client_with_default_verification_fails_clearly(tls_sandbox):
    with make_client(tls_sandbox, True) as client, pytest.raises(NexmoTransportError) as caught:
        client.list_owned_numbers()
    message = str(caught.value)
    assert "TLS failure" in message
    assert "certificate verify failed" in message
    assert client.stats["retries"] == 0  # an untrusted certificate is not retried
    assert tls_sandbox.admin.stats()["requests"] == {}  # nothing got through the handshake


def test_hook_verify_ssl_extra_takes_the_ca_path(tls_sandbox, monkeypatch):
    from airflow_provider_nexmo_numbers.hooks.nexmo_numbers import NexmoNumbersHook
    from tests.fixtures.airflow import set_nexmo_connection

    set_nexmo_connection(monkeypatch, "nexmo_tls", tls_sandbox, verify_ssl=tls_sandbox.ca_bundle)
    hook = NexmoNumbersHook(nexmo_conn_id="nexmo_tls")
    assert hook.test_connection()[0] is True
    assert hook.list_owned_numbers().count == 0

    set_nexmo_connection(monkeypatch, "nexmo_tls_untrusted", tls_sandbox)
    ok, message = NexmoNumbersHook(nexmo_conn_id="nexmo_tls_untrusted").test_connection()
    assert ok is False
    assert "certificate verify failed" in message
