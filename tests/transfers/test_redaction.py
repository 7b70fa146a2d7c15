"""Webhook URLs with credentials set outside the provider are exported masked, in every format (issue 11).

The provider refuses `user:pw@` in URLs it writes, so the number is configured here the way another tool
would: a raw form POST to the sandbox's update endpoint with a bearer token.
"""

from __future__ import annotations

import requests

from benchmarks.sandbox_speed import bare_token
from tests.transfers.conftest import run_context
from tests.transfers.test_to_file import read_back

SECRET = "pw-9f3k"
CREDENTIAL_URL = f"https://alice:{SECRET}@hooks.example.com/sms?x=1"
MASKED_URL = "https://***@hooks.example.com/sms?x=1"


def _configure_with_credentials(sandbox, msisdn: str) -> None:
    sandbox.admin.configure(webhook_check=False)
    token = bare_token(sandbox.token_url, sandbox.client_id, sandbox.client_secret)
    response = requests.post(
        f"{sandbox.base_url}/number/update",
        data={
            "country": "GB",
            "msisdn": msisdn,
            "moHttpUrl": CREDENTIAL_URL,
            "voiceCallbackType": "sip",
            "voiceCallbackValue": f"https://bob:{SECRET}@sip.example.com/in",
            "voiceStatusCallback": f"https://carol:{SECRET}@status.example.com/cb",
        },
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    response.raise_for_status()
    assert any(SECRET in (n.get("moHttpUrl") or "") for n in sandbox.admin.owned())


def test_credentials_in_urls_never_reach_an_export(sandbox, nexmo_conn, tmp_path, warehouse):
    from airflow_provider_nexmo_numbers.transfers.to_file import NexmoNumbersToFileOperator
    from airflow_provider_nexmo_numbers.transfers.to_sql import NexmoNumbersToSqlOperator

    sandbox.admin.seed_owned(3, country="GB", configured=True)
    msisdn = sorted(n["msisdn"] for n in sandbox.admin.owned())[1]
    _configure_with_credentials(sandbox, msisdn)

    exported = {}
    for fmt in ("csv", "jsonl", "parquet"):
        path = tmp_path / f"numbers.{fmt}"
        NexmoNumbersToFileOperator(task_id=f"to_{fmt}", path=str(path)).execute(run_context())
        assert SECRET.encode() not in path.read_bytes()
        exported[fmt] = {row["msisdn"]: row for row in read_back(path, fmt)}[msisdn]
    NexmoNumbersToSqlOperator(task_id="to_sql", sql_conn_id=warehouse.conn_id, table=warehouse.table).execute(
        run_context()
    )
    exported["sql"] = {row["msisdn"]: row for row in warehouse.rows(run_context()["run_id"])}[msisdn]

    for row in exported.values():
        assert row["mo_http_url"] == MASKED_URL
        assert row["voice_callback_value"] == "https://***@sip.example.com/in"
        assert row["voice_status_callback"] == "https://***@status.example.com/cb"
        assert SECRET not in repr(row)
