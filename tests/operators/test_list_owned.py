"""NexmoListOwnedNumbersOperator against the sandbox: filters, and the XCom cap with its log line."""

from __future__ import annotations

import json
import logging

from airflow_provider_nexmo_numbers.operators.buy import NexmoBuyNumberOperator
from airflow_provider_nexmo_numbers.operators.list_owned import NexmoListOwnedNumbersOperator
from airflow_provider_nexmo_numbers.operators.search import NexmoSearchNumbersOperator


def _list(**kwargs):
    return NexmoListOwnedNumbersOperator(task_id="list", **kwargs).execute({})


def _buy_nl_mobile(features: str) -> dict:
    offer = NexmoSearchNumbersOperator(
        task_id="s", country="NL", type="mobile-lvn", features=features, limit=1
    ).execute({})[0]
    return NexmoBuyNumberOperator(task_id="b", country="NL", msisdn=offer["msisdn"]).execute({})


def test_lists_everything_with_python_names(sandbox, nexmo_conn):
    sandbox.admin.seed_owned(5, country="GB")
    bought = _buy_nl_mobile("SMS,VOICE")

    numbers = _list()

    assert len(numbers) == 6
    json.dumps(numbers)
    assert bought["msisdn"] in {n["msisdn"] for n in numbers}
    assert {"mo_http_url", "voice_callback_type", "features", "type"} <= set(numbers[0])


def test_client_side_filters(sandbox, nexmo_conn):
    sandbox.admin.seed_owned(4, country="GB")
    bought = _buy_nl_mobile("SMS,VOICE")

    assert [n["msisdn"] for n in _list(country="nl")] == [bought["msisdn"]]
    assert [n["msisdn"] for n in _list(country="NL", type="mobile-lvn", features=["voice"])] == [
        bought["msisdn"]
    ]
    assert _list(country="NL", type="landline") == []
    assert all(n["country"] == "GB" for n in _list(country="GB"))


def test_pattern_filter(sandbox, nexmo_conn):
    sandbox.admin.seed_owned(3, country="GB")
    bought = _buy_nl_mobile("SMS")

    numbers = _list(pattern=bought["msisdn"][-6:], search_pattern=2)

    assert [n["msisdn"] for n in numbers] == [bought["msisdn"]]


def test_cap_cuts_the_list_and_says_so(sandbox, nexmo_conn, caplog, capsys):
    sandbox.admin.seed_owned(250, country="GB")

    with caplog.at_level(logging.INFO):
        numbers = _list(max_xcom_numbers=120)

    assert len(numbers) == 120
    logged = caplog.text + capsys.readouterr().out  # Airflow's task logger may write to stdout
    assert "max_xcom_numbers=120" in logged
    assert "NexmoNumbersToSqlOperator" in logged
    # stops paging once the cap is exceeded: 2 pages of 100, not 3
    assert sum(sandbox.admin.stats()["requests"]["GET /account/numbers"].values()) == 2


def test_under_the_cap_nothing_is_cut(sandbox, nexmo_conn, caplog, capsys):
    sandbox.admin.seed_owned(12, country="GB")

    with caplog.at_level(logging.INFO):
        numbers = _list(max_xcom_numbers=12)

    assert len(numbers) == 12
    logged = caplog.text + capsys.readouterr().out
    assert "12 owned number(s) match" in logged
    assert "max_xcom_numbers" not in logged
