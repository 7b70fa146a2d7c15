"""NexmoNumbersHook: connection -> client, extras, https rule, masking, test_connection, delegation."""

from __future__ import annotations

import ast
import inspect
import json
import logging
import time
from decimal import Decimal
from pathlib import Path

import pytest
from airflow.providers.common.compat.sdk import redact

from airflow_provider_nexmo_numbers.client import NexmoAuthError, NexmoNumbersClient, NexmoValidationError
from airflow_provider_nexmo_numbers.hooks.nexmo_numbers import NexmoNumbersHook
from tests.fixtures.airflow import conn_env_var, nexmo_connection_json, set_nexmo_connection


def _set_raw(monkeypatch, conn_id: str, **fields) -> str:
    monkeypatch.setenv(conn_env_var(conn_id), json.dumps({"conn_type": "nexmo_numbers", **fields}))
    return conn_id


def test_init_does_no_io(monkeypatch):
    def boom(*args, **kwargs):
        raise AssertionError("get_connection called from __init__")

    monkeypatch.setattr(NexmoNumbersHook, "get_connection", classmethod(boom))
    hook = NexmoNumbersHook(nexmo_conn_id="does_not_exist")
    assert hook.nexmo_conn_id == "does_not_exist"
    assert NexmoNumbersHook().nexmo_conn_id == "nexmo_numbers_default"


def test_get_conn_builds_and_caches_the_client(nexmo_conn, sandbox):
    hook = NexmoNumbersHook()
    client = hook.get_conn()
    assert isinstance(client, NexmoNumbersClient)
    assert hook.get_conn() is client
    assert client.base_url == sandbox.base_url
    assert client.token_url == sandbox.token_url
    assert client.timeout == (5.0, 5.0)
    assert client.retry_policy.max_retries == 3
    assert client._limiter.enabled is False
    hook.close()
    assert hook.get_conn() is not client


def test_operations_delegate_with_one_token(nexmo_conn, sandbox):
    hook = NexmoNumbersHook(nexmo_conn_id=nexmo_conn)
    available = hook.search_available_numbers("GB", features=["voice"], size=3)
    assert available.count > 0
    target = available.numbers[0]
    assert hook.buy_number("GB", target.msisdn).to_dict() == {
        "country": "GB",
        "msisdn": target.msisdn,
        "already_owned": False,
        "refused_as_owned": False,
    }
    assert hook.get_owned_number(target.msisdn).msisdn == target.msisdn
    assert hook.find_owned_number(target.msisdn) is not None
    assert [n.msisdn for n in hook.iter_owned_numbers()] == [target.msisdn]
    assert hook.list_owned_numbers(size=5).count == 1
    assert len(list(hook.iter_available_numbers("GB", limit=3))) == 3
    updated = hook.update_number("GB", target.msisdn, voice_status_callback="https://example.com/status")
    assert updated.voice_status_callback == "https://example.com/status"
    assert hook.cancel_number("GB", target.msisdn).already_released is False
    assert sandbox.admin.stats()["tokens_issued"] == 1


def test_hooks_in_one_process_share_one_token(nexmo_conn, sandbox, monkeypatch):
    """As in dag.test() or a worker running several tasks: one hook (and client) per task, one token."""
    other = set_nexmo_connection(monkeypatch, "nexmo_same_credentials", sandbox)
    hooks = [NexmoNumbersHook(), NexmoNumbersHook(), NexmoNumbersHook(nexmo_conn_id=other)]
    for hook in hooks:
        hook.list_owned_numbers(size=1)
    hooks[0].close()  # a finished task; the next one builds a new client
    hooks[0].list_owned_numbers(size=1)
    assert sandbox.admin.stats()["tokens_issued"] == 1

    sandbox.admin.revoke_tokens()
    for hook in hooks:
        hook.list_owned_numbers(size=1)
    stats = sandbox.admin.stats()
    assert stats["tokens_issued"] == 2  # one renewal for all
    assert stats["requests"]["GET /account/numbers"] == {"200": 7, "401": 1}
    token = hooks[2].get_conn().tokens.get_token()
    assert redact(f"Authorization: Bearer {token}") == "Authorization: Bearer ***"


_OPERATIONS = [
    "list_owned_numbers",
    "iter_owned_numbers",
    "get_owned_number",
    "find_owned_number",
    "search_available_numbers",
    "iter_available_numbers",
    "buy_number",
    "cancel_number",
    "update_number",
]


@pytest.mark.parametrize("name", _OPERATIONS)
def test_operations_show_the_clients_signature_and_docstring(name):
    hook_method, client_method = getattr(NexmoNumbersHook, name), getattr(NexmoNumbersClient, name)
    signature = inspect.signature(client_method)
    assert inspect.signature(hook_method) == signature
    assert hook_method.__doc__ == client_method.__doc__
    assert hook_method.__qualname__ == f"NexmoNumbersHook.{name}"
    bound = inspect.signature(getattr(NexmoNumbersHook(nexmo_conn_id="not_looked_up"), name))
    assert bound == signature.replace(parameters=list(signature.parameters.values())[1:])


def test_secret_and_tokens_are_masked(nexmo_conn, sandbox):
    hook = NexmoNumbersHook()
    hook.list_owned_numbers(size=1)
    token = hook.get_conn().tokens.get_token()
    assert redact(f"Authorization: Bearer {token}") == "Authorization: Bearer ***"
    assert redact(f"secret={sandbox.client_secret}") == "secret=***"


def test_test_connection_ok(nexmo_conn, sandbox):
    sandbox.admin.seed_owned(3)
    ok, message = NexmoNumbersHook().test_connection()
    assert ok is True
    assert f"token from {sandbox.token_url}" in message
    assert "3 number(s)" in message
    stats = sandbox.admin.stats()
    assert stats["token_requests"] == 1
    assert stats["requests"]["GET /account/numbers"] == {"200": 1}


def test_test_connection_retries_a_token_outage(nexmo_conn, sandbox):
    sandbox.admin.queue_fault("status", operation="token", status=503, count=1)
    ok, message = NexmoNumbersHook().test_connection()
    assert ok is True, message
    assert sandbox.admin.stats()["requests"]["token"] == {"503": 1, "200": 1}


def test_test_connection_bad_secret(sandbox, monkeypatch):
    conn_id = set_nexmo_connection(monkeypatch, "nexmo_bad", sandbox, client_secret="not-the-secret")
    ok, message = NexmoNumbersHook(nexmo_conn_id=conn_id).test_connection()
    assert ok is False
    assert "NexmoAuthError" in message
    assert "not-the-secret" not in message
    with pytest.raises(NexmoAuthError):
        NexmoNumbersHook(nexmo_conn_id=conn_id).list_owned_numbers()


def test_test_connection_reports_config_errors(monkeypatch):
    conn_id = _set_raw(monkeypatch, "nexmo_plain", host="http://api.example.com/x", login="id", password="s")
    ok, message = NexmoNumbersHook(nexmo_conn_id=conn_id).test_connection()
    assert ok is False
    assert "https" in message


def test_token_url_defaults_to_the_hosts_kpn_path(sandbox, monkeypatch):
    conn_id = set_nexmo_connection(monkeypatch, "nexmo_derived", sandbox, token_url=None)
    hook = NexmoNumbersHook(nexmo_conn_id=conn_id)
    assert hook.get_conn().token_url == sandbox.token_url
    assert hook.list_owned_numbers().count == 0


def test_defaults_without_host_or_extras(monkeypatch):
    conn_id = _set_raw(monkeypatch, "nexmo_bare", login="id", password="secret")
    client = NexmoNumbersHook(nexmo_conn_id=conn_id).get_conn()
    assert client.base_url == "https://api-prd.kpn.com/communication/nexmo/phone-numbers"
    assert client.token_url == "https://api-prd.kpn.com/oauth/client_credential/accesstoken"
    assert client.timeout == (5.0, 30.0)
    assert client.retry_policy.max_retries == 5
    assert client._limiter.rate == 0.0  # no fixed cap: quota-aware pacing
    assert client.verify_ssl is True


def test_bare_host_gets_https(monkeypatch):
    conn_id = _set_raw(
        monkeypatch,
        "nexmo_host",
        host="api.example.com",
        schema="base/path",
        login="id",
        password="s",
        port=8443,
    )
    client = NexmoNumbersHook(nexmo_conn_id=conn_id).get_conn()
    assert client.base_url == "https://api.example.com:8443/base/path"
    assert client.token_url == "https://api.example.com:8443/oauth/client_credential/accesstoken"


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"timeout": "1,2"}, {"timeout": (1.0, 2.0)}),
        ({"timeout": [3, 4]}, {"timeout": (3.0, 4.0)}),
        ({"timeout": {"connect": 1, "read": 9}}, {"timeout": (1.0, 9.0)}),
        ({"timeout": "7"}, {"timeout": (7.0, 7.0)}),
        ({"max_retries": "0"}, {"max_retries": 0}),
        ({"rate_limit": "0.5"}, {"rate": 0.5}),
        ({"rate_limit": 0}, {"rate": 0.0}),
        ({"rate_limit": ""}, {"rate": 0.0}),
        ({"verify_ssl": "false"}, {"verify_ssl": False}),
        ({"verify_ssl": True}, {"verify_ssl": True}),
        ({"verify_ssl": "/etc/ssl/ca.pem"}, {"verify_ssl": "/etc/ssl/ca.pem"}),
        ({"max_retry_time": "30"}, {"max_retry_time": 30.0}),
        ({"max_retry_time": 2.5}, {"max_retry_time": 2.5}),
        ({"backoff_base": "0.1"}, {"backoff_base": 0.1}),
        ({"backoff_base": 0}, {"backoff_base": 0.0}),
        ({"backoff_max": 5}, {"backoff_max": 5.0}),
        ({"backoff_max": ""}, {"backoff_max": 30.0}),
        ({}, {"max_retry_time": 120.0, "backoff_base": 0.5, "backoff_max": 30.0}),
    ],
)
def test_extras_parsing(monkeypatch, extra, expected):
    conn_id = _set_raw(monkeypatch, "nexmo_extras", login="id", password="s", extra=extra)
    client = NexmoNumbersHook(nexmo_conn_id=conn_id).get_conn()
    actual = {
        "timeout": client.timeout,
        "max_retries": client.retry_policy.max_retries,
        "rate": client._limiter.rate,
        "verify_ssl": client.verify_ssl,
        "max_retry_time": client.retry_policy.max_retry_time,
        "backoff_base": client.retry_policy.backoff_base,
        "backoff_max": client.retry_policy.backoff_max,
    }
    assert {key: actual[key] for key in expected} == expected


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"extra": {"timeout": "soon"}}, "extra.timeout", "seconds"),
        ({"extra": {"timeout": "1,2,3"}}, "extra.timeout", "connect,read"),
        ({"extra": {"timeout": -5}}, "extra.timeout", "> 0"),
        ({"extra": {"max_retries": "many"}}, "extra.max_retries", ">= 0"),
        ({"extra": {"max_retries": -1}}, "extra.max_retries", ">= 0"),
        ({"extra": {"rate_limit": "fast"}}, "extra.rate_limit", "requests per second"),
        ({"extra": {"verify_ssl": 3}}, "extra.verify_ssl", "CA bundle"),
        ({"extra": {"max_retry_time": 0}}, "extra.max_retry_time", "seconds > 0"),
        ({"extra": {"max_retry_time": "forever"}}, "extra.max_retry_time", "seconds > 0"),
        ({"extra": {"max_retry_time": "inf"}}, "extra.max_retry_time", "seconds > 0"),
        ({"extra": {"backoff_base": -0.5}}, "extra.backoff_base", "seconds >= 0"),
        ({"extra": {"backoff_base": True}}, "extra.backoff_base", "seconds >= 0"),
        ({"extra": {"backoff_max": "nan"}}, "extra.backoff_max", "seconds >= 0"),
        ({"extra": {"backoff_max": [1]}}, "extra.backoff_max", "seconds >= 0"),
        ({"host": "http://api-prd.kpn.com/x"}, "host", "https"),
        ({"extra": {"token_url": "http://auth.example.com/token"}}, "extra.token_url", "https"),
        ({"login": ""}, "login", "client id"),
        ({"password": None}, "password", "client secret"),
    ],
)
def test_config_errors_name_the_field(monkeypatch, fields, field, words):
    conn_id = _set_raw(monkeypatch, "nexmo_broken", **{"login": "id", "password": "s", **fields})
    with pytest.raises(NexmoValidationError) as info:
        NexmoNumbersHook(nexmo_conn_id=conn_id).get_conn()
    assert info.value.field == field
    assert words in str(info.value)
    assert "nexmo_broken" in str(info.value)


def test_backoff_extras_shape_the_real_waits(sandbox, monkeypatch):
    """Short backoff from the connection alone (what chaos tests need), no client patching."""
    conn_id = set_nexmo_connection(
        monkeypatch, "nexmo_fast_backoff", sandbox, max_retries=3, backoff_base=0.01, backoff_max=0.02
    )
    sandbox.admin.queue_fault("status", operation="GET /account/numbers", status=503, count=3)
    hook = NexmoNumbersHook(nexmo_conn_id=conn_id)
    started = time.monotonic()
    assert hook.list_owned_numbers().count == 0
    assert time.monotonic() - started < 0.5  # the default backoff sleeps 0.25 + 0.5 + 1.0 s at least
    assert hook.get_conn().stats["retries"] == 3


def test_plain_http_error_explains_why(monkeypatch):
    conn_id = _set_raw(monkeypatch, "nexmo_http", host="http://api.example.com/x", login="id", password="s")
    with pytest.raises(NexmoValidationError) as info:
        NexmoNumbersHook(nexmo_conn_id=conn_id).get_conn()
    message = str(info.value)
    assert "client secret" in message
    assert "unencrypted" in message
    assert "loopback" in message


def test_unknown_extras_are_logged(sandbox, monkeypatch, caplog, capsys):
    conn_id = _set_raw(
        monkeypatch, "nexmo_typo", host=sandbox.base_url, login="id", password="s", extra={"timout": 3}
    )
    with caplog.at_level(logging.WARNING):
        NexmoNumbersHook(nexmo_conn_id=conn_id).get_conn()
    captured = capsys.readouterr()
    # Airflow's structlog set-up may print instead of going through the logging module.
    assert "ignoring unknown extra field(s) timout" in caplog.text + captured.out + captured.err


def test_nexmo_connection_json_helper(sandbox):
    data = json.loads(nexmo_connection_json(sandbox, rate_limit=1.5))
    assert data["extra"] == {
        "token_url": sandbox.token_url,
        "rate_limit": 1.5,
        "timeout": 5,
        "max_retries": 3,
    }


def test_hook_module_imports_nothing_heavy_at_module_level():
    """DAG parsing imports operator modules, which import the hook module: its top-level imports must not
    drag in the client (requests, tenacity, pydantic models), the sandbox or heavy libraries."""
    import airflow_provider_nexmo_numbers.hooks.nexmo_numbers as module

    tree = ast.parse(Path(module.__file__).read_text())
    top_level = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            top_level.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            top_level.add(node.module or "")
    assert top_level <= {"__future__", "collections.abc", "typing", "urllib.parse",
                         "airflow.providers.common.compat.sdk"}, top_level  # fmt: skip


# -- the Vonage flavour, the settings definition, masking without echo ------------------------------------


def _vonage(monkeypatch, sandbox, conn_id="nexmo_vonage", **extra):
    return _set_raw(
        monkeypatch,
        conn_id,
        host=sandbox.vonage_url,
        login=sandbox.client_id,
        password=sandbox.client_secret,
        extra={"api": "vonage", "rate_limit": 0, "max_retries": 1, **extra},
    )


def test_vonage_connection_buys_lists_and_reports_the_balance(monkeypatch, sandbox):
    hook = NexmoNumbersHook(nexmo_conn_id=_vonage(monkeypatch, sandbox))
    number = sandbox.admin.pool("GB")[0]
    assert hook.buy_number("GB", number["msisdn"]).already_owned is False
    assert [n.msisdn for n in hook.iter_owned_numbers(has_application=False)] == [number["msisdn"]]
    assert hook.get_balance() == Decimal("100.0")
    assert hook.api == "vonage"
    ok, message = hook.test_connection()
    assert ok, message
    assert "API key accepted" in message
    assert sandbox.admin.stats()["token_requests"] == 0


def test_kpn_connection_has_no_balance_and_no_subaccounts(nexmo_conn, sandbox):
    hook = NexmoNumbersHook()
    assert hook.get_balance() is None
    assert hook.api == "kpn"
    with pytest.raises(NexmoValidationError) as info:
        hook.buy_number("GB", sandbox.admin.pool("GB")[0]["msisdn"], target_api_key="sub")
    assert info.value.field == "target_api_key"
    assert sandbox.admin.stats()["api_requests"] == 0


def test_vonage_connection_refuses_an_oauth_url(monkeypatch, sandbox):
    conn_id = _vonage(monkeypatch, sandbox, oauth_url="https://auth.example.com/token")
    with pytest.raises(NexmoValidationError) as info:
        NexmoNumbersHook(nexmo_conn_id=conn_id).get_conn()
    assert info.value.field == "extra.oauth_url"


def test_oauth_url_is_read_and_the_old_token_url_too(monkeypatch, sandbox):
    new = _set_raw(monkeypatch, "nexmo_new", login="id", password="s", extra={"oauth_url": sandbox.token_url})
    old = _set_raw(monkeypatch, "nexmo_old", login="id", password="s", extra={"token_url": sandbox.token_url})
    both = _set_raw(
        monkeypatch,
        "nexmo_both",
        login="id",
        password="s",
        extra={"oauth_url": sandbox.token_url, "token_url": "https://old.example.com/t"},
    )
    for conn_id in (new, old, both):
        assert NexmoNumbersHook(nexmo_conn_id=conn_id).get_conn().token_url == sandbox.token_url


def test_bad_api_and_bad_oauth_url_name_their_extra(monkeypatch):
    conn_id = _set_raw(monkeypatch, "nexmo_api", login="id", password="s", extra={"api": "twilio"})
    with pytest.raises(NexmoValidationError) as info:
        NexmoNumbersHook(nexmo_conn_id=conn_id).get_conn()
    assert info.value.field == "extra.api"
    assert "kpn, vonage" in str(info.value)
    conn_id = _set_raw(
        monkeypatch, "nexmo_url", login="id", password="s", extra={"oauth_url": "http://auth.example.com/t"}
    )
    with pytest.raises(NexmoValidationError) as info:
        NexmoNumbersHook(nexmo_conn_id=conn_id).get_conn()
    assert info.value.field == "extra.oauth_url"
    assert "https" in str(info.value)


def test_empty_form_values_mean_the_defaults(monkeypatch):
    """What Airflow's form saves for fields left empty (null or "") must not override the defaults."""
    blank = dict.fromkeys(("api", "oauth_url", "timeout", "max_retries", "rate_limit", "verify_ssl"), None)
    conn_id = _set_raw(
        monkeypatch, "nexmo_blank", login="id", password="s", extra={**blank, "backoff_max": ""}
    )
    client = NexmoNumbersHook(nexmo_conn_id=conn_id).get_conn()
    assert (client.api, client.timeout, client.retry_policy.max_retries) == ("kpn", (5.0, 30.0), 5)
    assert client.retry_policy.backoff_max == 30.0


class InProcessSupervisorComms:
    """Stands in for the dag.test() supervisor of the Task SDK (same class name): it logs every message
    it is sent at DEBUG, values included. Records what it was sent."""

    def __init__(self) -> None:
        self.sent: list = []

    def send(self, msg):
        self.sent.append(msg)


def test_tokens_are_masked_without_the_in_process_echo(nexmo_conn, sandbox, monkeypatch):
    """Issue 11: under dag.test() every mask_secret call went to the in-process supervisor, which echoes it
    at DEBUG with the value; the token is now added to the process's masker directly."""
    from airflow.sdk.execution_time import task_runner

    comms = InProcessSupervisorComms()
    monkeypatch.setattr(task_runner, "SUPERVISOR_COMMS", comms, raising=False)
    hook = NexmoNumbersHook()
    hook.list_owned_numbers(size=1)
    token = hook.get_conn().tokens.get_token()
    assert redact(f"Bearer {token}") == "Bearer ***"
    assert not [m for m in comms.sent if token in repr(m)]
    # Airflow's own get_connection registers the password once (its echo is Airflow's: README); the hook
    # used to register it a second time
    assert len([m for m in comms.sent if sandbox.client_secret in repr(m)]) == 1
