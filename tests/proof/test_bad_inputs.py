"""The cross-cutting table of bad inputs: client, hook (connection), operators, sensor, campaign, exports.

Every case fails with an error whose message names the offending field, and the sandbox proves that nothing
went on the wire: no API request, no token request, no call to its webhook. Cases fail at the earliest point
the value is known: construction (DAG parse time) for literal values, `execute()` before the first request for
values that come from templates, the hook's first use for a bad connection. Per-area tables with more cases
live next to each area's tests (tests/operators, tests/sensors, tests/client ...); this one spans them all.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_provider_nexmo_numbers.client import NexmoNumbersClient
from airflow_provider_nexmo_numbers.hooks.nexmo_numbers import NexmoNumbersHook
from airflow_provider_nexmo_numbers.operators.buy import NexmoBuyNumberOperator
from airflow_provider_nexmo_numbers.operators.cancel import NexmoCancelNumberOperator
from airflow_provider_nexmo_numbers.operators.ensure import NexmoEnsureNumbersOperator
from airflow_provider_nexmo_numbers.operators.list_owned import NexmoListOwnedNumbersOperator
from airflow_provider_nexmo_numbers.operators.release import NexmoReleaseNumbersOperator
from airflow_provider_nexmo_numbers.operators.search import NexmoSearchNumbersOperator
from airflow_provider_nexmo_numbers.operators.update import NexmoUpdateNumberOperator
from airflow_provider_nexmo_numbers.sensors.webhook_ready import NexmoWebhookReadySensor
from airflow_provider_nexmo_numbers.transfers.to_file import NexmoNumbersToFileOperator
from airflow_provider_nexmo_numbers.transfers.to_sql import NexmoNumbersToSqlOperator
from tests.fixtures.airflow import set_nexmo_connection

pytestmark = pytest.mark.timeout(30)

NUMBER = "447700900001"
HOOK_URL = "https://hooks.example.com/campaign"
GOOD_SELECTOR = {"country": "GB", "type": "mobile-lvn", "mo_http_url": HOOK_URL}
BAD_CONN = "nexmo_proof_bad"


class Env:
    """What a case may use: the sandbox, the test's monkeypatch and tmp_path, and a webhook on the sandbox."""

    def __init__(self, sb: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
        self.sb, self.monkeypatch, self.tmp_path = sb, monkeypatch, tmp_path
        self.webhook = sb.admin.webhook_url("proof-bad-input", ready_after=0)

    def client(self, **kwargs: Any) -> NexmoNumbersClient:
        settings = {"base_url": self.sb.base_url, "token_url": self.sb.token_url, "rate_limit": 0, **kwargs}
        return NexmoNumbersClient(self.sb.client_id, self.sb.client_secret, **settings)

    def hook(self, **connection: Any) -> NexmoNumbersHook:
        """A hook on connection BAD_CONN: the sandbox's, with `connection` overriding fields/extras."""
        set_nexmo_connection(self.monkeypatch, BAD_CONN, self.sb, **connection)
        return NexmoNumbersHook(BAD_CONN)

    def raw_hook(self, conn: dict[str, Any]) -> NexmoNumbersHook:
        """A hook on a connection given field by field (for fields `set_nexmo_connection` always fills)."""
        self.monkeypatch.setenv("AIRFLOW_CONN_" + BAD_CONN.upper(), json.dumps(conn))
        return NexmoNumbersHook(BAD_CONN)


def rendered(op: Any, **values: Any) -> None:
    """Render `op`'s templates with `values` in the context, then run it (as a task try would)."""
    op.render_template_fields(values)
    op.execute(values)


def sandbox_conn(env: Env, **overrides: Any) -> dict[str, Any]:
    extra = {"token_url": env.sb.token_url, "rate_limit": 0}
    conn = {"conn_type": "nexmo_numbers", "host": env.sb.base_url, "login": env.sb.client_id}
    conn.update(password=env.sb.client_secret, extra=extra)
    conn.update(overrides)
    return conn


Case = tuple[str, Callable[[Env], Any], str]
# (case id, what to do, the field the message must name)
CASES: list[Case] = [
    # -- client --------------------------------------------------------------------------------------------
    ("client-search-country-name", lambda e: e.client().search_available_numbers("Netherlands"), "country"),
    ("client-search-size-0", lambda e: e.client().search_available_numbers("NL", size=0), "size"),
    ("client-search-size-101", lambda e: e.client().search_available_numbers("NL", size=101), "size"),
    ("client-search-type", lambda e: e.client().search_available_numbers("NL", type="mobile"), "type"),
    (
        "client-search-features",
        lambda e: e.client().search_available_numbers("NL", features="FAX"),
        "features",
    ),
    (
        "client-list-search-pattern",
        lambda e: e.client().list_owned_numbers(search_pattern=7),
        "search_pattern",
    ),
    ("client-list-index-0", lambda e: e.client().list_owned_numbers(index=0), "index"),
    ("client-iter-page-size", lambda e: list(e.client().iter_owned_numbers(page_size=500)), "page_size"),
    ("client-buy-msisdn-letters", lambda e: e.client().buy_number("GB", "44abc"), "msisdn"),
    ("client-cancel-country", lambda e: e.client().cancel_number("G1", NUMBER), "country"),
    ("client-get-msisdn-short", lambda e: e.client().get_owned_number("12"), "msisdn"),
    (
        "client-update-url",
        lambda e: e.client().update_number("GB", NUMBER, mo_http_url="no-url"),
        "mo_http_url",
    ),
    (
        "client-update-voice-value-alone",
        lambda e: e.client().update_number("GB", NUMBER, voice_callback_value="sip:a@b.example"),
        "voice_callback_value",
    ),
    (
        "client-update-voice-type",
        lambda e: e.client().update_number("GB", NUMBER, voice_callback_type="fax", voice_callback_value="x"),
        "voice_callback_type",
    ),
    ("client-update-unknown", lambda e: e.client().update_number("GB", NUMBER, colour="red"), "colour"),
    ("client-timeout-0", lambda e: e.client(timeout=0), "timeout"),
    ("client-rate-negative", lambda e: e.client(rate_limit=-1), "rate_limit"),
    ("client-http-remote", lambda e: e.client(base_url="http://api.example.com/numbers"), "base_url"),
    ("client-id-empty", lambda e: NexmoNumbersClient("", "s", token_url=e.sb.token_url), "client_id"),
    # -- hook: the connection is checked on first use, before the token request -----------------------------
    ("hook-no-password", lambda e: e.raw_hook(sandbox_conn(e, password="")).list_owned_numbers(), "password"),
    ("hook-no-login", lambda e: e.raw_hook(sandbox_conn(e, login=None)).list_owned_numbers(), "login"),
    ("hook-timeout", lambda e: e.hook(timeout="soon").list_owned_numbers(), "extra.timeout"),
    ("hook-max-retries", lambda e: e.hook(max_retries=-1).list_owned_numbers(), "extra.max_retries"),
    ("hook-rate-limit", lambda e: e.hook(rate_limit="fast").list_owned_numbers(), "extra.rate_limit"),
    ("hook-verify-ssl", lambda e: e.hook(verify_ssl=5).list_owned_numbers(), "extra.verify_ssl"),
    ("hook-http-host", lambda e: e.hook(host="http://api.example.com/x").list_owned_numbers(), "host"),
    (
        "hook-http-token",
        lambda e: e.hook(token_url="http://auth.example.com/t").list_owned_numbers(),
        "token_url",
    ),
    ("hook-search-country", lambda e: e.hook().search_available_numbers("XX"), "country"),
    ("hook-update-url", lambda e: e.hook().update_number("GB", NUMBER, mo_http_url="/in"), "mo_http_url"),
    # -- operators -------------------------------------------------------------------------------------------
    ("search-country", lambda e: NexmoSearchNumbersOperator(task_id="t", country="Netherlands"), "country"),
    ("search-limit", lambda e: NexmoSearchNumbersOperator(task_id="t", country="NL", limit=0), "limit"),
    (
        "buy-msisdn",
        lambda e: NexmoBuyNumberOperator(task_id="t", country="GB", msisdn="44abc45678"),
        "msisdn",
    ),
    (
        "update-url",
        lambda e: NexmoUpdateNumberOperator(
            task_id="t", country="GB", msisdn=NUMBER, mo_http_url="ftp://x/y"
        ),
        "mo_http_url",
    ),
    (
        "update-url-rendered",
        lambda e: rendered(
            NexmoUpdateNumberOperator(task_id="t", country="GB", msisdn=NUMBER, mo_http_url="{{ u }}"),
            u="not-a-url",
        ),
        "mo_http_url",
    ),
    (
        "cancel-dry-run",
        lambda e: NexmoCancelNumberOperator(task_id="t", country="GB", msisdn=NUMBER, dry_run="perhaps"),
        "dry_run",
    ),
    (
        "list-max-xcom",
        lambda e: NexmoListOwnedNumbersOperator(task_id="t", max_xcom_numbers=0),
        "max_xcom_numbers",
    ),
    (
        "list-bad-connection",
        lambda e: (e.hook(timeout=-3), NexmoListOwnedNumbersOperator(task_id="t", nexmo_conn_id=BAD_CONN))[
            1
        ].execute({}),
        "extra.timeout",
    ),
    # -- campaign operators ----------------------------------------------------------------------------------
    (
        "ensure-no-country",
        lambda e: NexmoEnsureNumbersOperator(task_id="t", selector={"type": "mobile-lvn"}, count=1),
        "selector.country",
    ),
    (
        "ensure-count-negative",
        lambda e: NexmoEnsureNumbersOperator(task_id="t", selector=GOOD_SELECTOR, count=-1),
        "count",
    ),
    (
        "ensure-count-rendered",
        lambda e: rendered(
            NexmoEnsureNumbersOperator(task_id="t", selector=GOOD_SELECTOR, count="{{ c }}"), c="many"
        ),
        "count",
    ),
    (
        "ensure-selector-typo",
        lambda e: NexmoEnsureNumbersOperator(
            task_id="t", selector={"country": "GB", "moHttpUrl": "x"}, count=1
        ),
        "moHttpUrl",
    ),
    (
        "ensure-config-contradicts-marker",
        lambda e: NexmoEnsureNumbersOperator(
            task_id="t",
            selector=GOOD_SELECTOR,
            count=1,
            configuration={"mo_http_url": "https://elsewhere.example.com/"},
        ),
        "configuration.mo_http_url",
    ),
    (
        "ensure-budget-negative",
        lambda e: NexmoEnsureNumbersOperator(
            task_id="t", selector=GOOD_SELECTOR, count=1, monthly_budget="-5"
        ),
        "monthly_budget",
    ),
    (
        "ensure-max-cost-word",
        lambda e: NexmoEnsureNumbersOperator(
            task_id="t", selector=GOOD_SELECTOR, count=1, max_monthly_cost="cheap"
        ),
        "max_monthly_cost",
    ),
    (
        "ensure-on-shortfall",
        lambda e: NexmoEnsureNumbersOperator(
            task_id="t", selector=GOOD_SELECTOR, count=1, on_shortfall="ignore"
        ),
        "on_shortfall",
    ),
    (
        "ensure-known-costs-msisdn",
        lambda e: NexmoEnsureNumbersOperator(
            task_id="t", selector=GOOD_SELECTOR, count=1, known_costs={"44abc": "1.00"}
        ),
        "known_costs",
    ),
    (
        "ensure-voice-value-alone",
        lambda e: NexmoEnsureNumbersOperator(
            task_id="t", selector=GOOD_SELECTOR, count=1, configuration={"voice_callback_value": "sip:a@b.c"}
        ),
        "voice_callback_value",
    ),
    ("release-empty-selector", lambda e: NexmoReleaseNumbersOperator(task_id="t"), "selector"),
    (
        "release-max-negative",
        lambda e: NexmoReleaseNumbersOperator(task_id="t", selector=GOOD_SELECTOR, max_release=-1),
        "max_release",
    ),
    (
        "release-keep-letters",
        lambda e: NexmoReleaseNumbersOperator(task_id="t", selector=GOOD_SELECTOR, keep=["abc"]),
        "keep",
    ),
    (
        "release-msisdns-rendered",
        lambda e: rendered(NexmoReleaseNumbersOperator(task_id="t", msisdns="{{ m }}"), m="31abc, 12"),
        "msisdns",
    ),
    # -- sensor (pointed at the sandbox's own webhook: it must not be called) --------------------------------
    ("sensor-url", lambda e: NexmoWebhookReadySensor(task_id="t", url="not a url"), "url"),
    (
        "sensor-statuses",
        lambda e: NexmoWebhookReadySensor(task_id="t", url=e.webhook, expected_statuses=[200, 600]),
        "expected_statuses",
    ),
    (
        "sensor-request-timeout",
        lambda e: NexmoWebhookReadySensor(task_id="t", url=e.webhook, request_timeout=0),
        "request_timeout",
    ),
    ("sensor-mode", lambda e: NexmoWebhookReadySensor(task_id="t", url=e.webhook, mode="push"), "mode"),
    (
        "sensor-url-rendered",
        lambda e: rendered(NexmoWebhookReadySensor(task_id="t", url="{{ u }}"), u="ftp://127.0.0.1/hook"),
        "url",
    ),
    # -- exports ---------------------------------------------------------------------------------------------
    (
        "to-sql-table-injection",
        lambda e: NexmoNumbersToSqlOperator(task_id="t", sql_conn_id="db", table="numbers; DROP TABLE x"),
        "table",
    ),
    (
        "to-sql-batch-size",
        lambda e: NexmoNumbersToSqlOperator(task_id="t", sql_conn_id="db", batch_size=0),
        "batch_size",
    ),
    (
        "to-sql-page-size",
        lambda e: NexmoNumbersToSqlOperator(task_id="t", sql_conn_id="db", page_size=101),
        "page_size",
    ),
    ("to-sql-conn-empty", lambda e: NexmoNumbersToSqlOperator(task_id="t", sql_conn_id=""), "sql_conn_id"),
    (
        "to-sql-snapshot-date-rendered",
        lambda e: rendered(
            NexmoNumbersToSqlOperator(task_id="t", sql_conn_id="db", snapshot_date="{{ d }}"), d="yesterday"
        ),
        "snapshot_date",
    ),
    ("to-file-relative-path", lambda e: NexmoNumbersToFileOperator(task_id="t", path="numbers.csv"), "path"),
    (
        "to-file-format",
        lambda e: NexmoNumbersToFileOperator(task_id="t", path=str(e.tmp_path / "n.xlsx")),
        "format",
    ),
    (
        "to-file-path-rendered",
        lambda e: rendered(
            NexmoNumbersToFileOperator(task_id="t", path="{{ p }}", format="csv"), p="rel.csv"
        ),
        "path",
    ),
]


@pytest.mark.parametrize(("act", "field"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_names_the_field_and_sends_nothing(sandbox, nexmo_conn, monkeypatch, tmp_path, act, field):
    env = Env(sandbox, monkeypatch, tmp_path)

    with pytest.raises((ValueError, AirflowFailException)) as raised:
        act(env)

    error = raised.value
    assert field in str(error), f"{type(error).__name__}: {error}"
    typed = error.__cause__ if isinstance(error, AirflowFailException) and error.__cause__ else error
    if getattr(typed, "field", None) is not None:
        assert field in typed.field, (typed.field, field)
    stats = sandbox.admin.stats()
    assert stats["api_requests"] == 0, stats["requests"]
    assert stats["token_requests"] == 0, stats["requests"]
    assert all(not hook["hits"] for hook in sandbox.admin.webhooks())


def test_the_table_spans_every_area_with_enough_cases():
    areas = {case_id.split("-")[0] for case_id, _, _ in CASES}
    assert {
        "client",
        "hook",
        "search",
        "buy",
        "update",
        "cancel",
        "list",
        "ensure",
        "release",
        "sensor",
    } <= areas
    assert {"to"} <= areas
    assert len(CASES) >= 40
