"""Timeouts: an endpoint that hangs never holds a task longer than its configured timeout and retry budget.

The sandbox holds hung requests for 30 s; the connection says `timeout=0.5` (seconds, connect and read) and
`max_retries=2`. Each case runs an operator's `execute()` against one hanging endpoint and measures how long
it takes to give up. The bound is computed from the configuration, not tuned to the machine:

    attempts * timeout + the largest backoff the client may sleep between them + slack

where attempts = max_retries + 1 and the backoff before retry n is at most min(backoff_max, 0.5 * 2**(n-1))
(the client's defaults). A lower bound of attempts * timeout proves every attempt really waited for the hang,
and the client's own counters prove it made exactly `attempts` tries of the hanging operation. Hung requests
are released (sandbox reset) after each case, so nothing they would have done (a purchase) ever happens.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from airflow_provider_nexmo_numbers.client.client import DEFAULT_BACKOFF_BASE, DEFAULT_BACKOFF_MAX
from airflow_provider_nexmo_numbers.client.errors import NexmoTransportError
from airflow_provider_nexmo_numbers.operators.buy import NexmoBuyNumberOperator
from airflow_provider_nexmo_numbers.operators.ensure import NexmoEnsureNumbersOperator
from airflow_provider_nexmo_numbers.operators.list_owned import NexmoListOwnedNumbersOperator
from airflow_provider_nexmo_numbers.operators.search import NexmoSearchNumbersOperator
from airflow_provider_nexmo_numbers.transfers.to_file import NexmoNumbersToFileOperator
from tests.fixtures.airflow import set_nexmo_connection

pytestmark = pytest.mark.timeout(60)

CONN_ID = "nexmo_proof_hang"
TIMEOUT = 0.5
MAX_RETRIES = 2
ATTEMPTS = MAX_RETRIES + 1
HANG_SECONDS = 30.0
# Token fetch, connection set-up, look-ups between buy attempts, a loaded 2-core CI machine.
SLACK = 2.0


def backoff_bound(retries: int) -> float:
    """The most the client sleeps between `retries + 1` attempts with its default backoff (no Retry-After)."""
    return sum(min(DEFAULT_BACKOFF_MAX, DEFAULT_BACKOFF_BASE * 2 ** (n - 1)) for n in range(1, retries + 1))


BOUND = ATTEMPTS * TIMEOUT + backoff_bound(MAX_RETRIES) + SLACK


def _list(tmp_path: Any) -> Any:
    return NexmoListOwnedNumbersOperator(task_id="list", nexmo_conn_id=CONN_ID)


def _search(tmp_path: Any) -> Any:
    return NexmoSearchNumbersOperator(
        task_id="search", country="GB", type="mobile-lvn", nexmo_conn_id=CONN_ID
    )


def _buy(tmp_path: Any) -> Any:
    return NexmoBuyNumberOperator(task_id="buy", country="GB", msisdn=BUY_MSISDN, nexmo_conn_id=CONN_ID)


def _ensure(tmp_path: Any) -> Any:
    return NexmoEnsureNumbersOperator(
        task_id="ensure", selector={"country": "GB", "type": "mobile-lvn"}, count=2, nexmo_conn_id=CONN_ID
    )


def _export(tmp_path: Any) -> Any:
    return NexmoNumbersToFileOperator(
        task_id="export", path=str(tmp_path / "numbers.csv"), nexmo_conn_id=CONN_ID
    )


BUY_MSISDN = "447700801866"  # in the sandbox's seeded GB mobile pool (seed 7)

# (operator factory, how the sandbox hangs, the operation whose attempts are counted). token-hangs: token
# grants share the operation's one retry loop, so a hanging token endpoint costs max_retries + 1 timeouts, not
# (max_retries + 1)**2 as when the token source retried inside every attempt.
CASES: list[Any] = [
    pytest.param(_list, {"operation": "GET /account/numbers"}, "GET /account/numbers", id="list-hangs"),
    pytest.param(_search, {"operation": "token"}, "token", id="token-hangs"),
    pytest.param(_buy, {"operation": "POST /number/buy"}, "POST /number/buy", id="buy-hangs"),
    pytest.param(_ensure, {"operation": None}, "GET /account/numbers", id="ensure-every-request-hangs"),
    pytest.param(_export, {"rate": 1.0}, "GET /account/numbers", id="export-every-request-hangs"),
]


@pytest.fixture
def hang_conn(sandbox, monkeypatch):
    set_nexmo_connection(monkeypatch, CONN_ID, sandbox, timeout=TIMEOUT, max_retries=MAX_RETRIES)
    yield CONN_ID
    sandbox.admin.reset()  # release the hung requests now: nothing they carry is processed


@pytest.mark.parametrize(("factory", "hang", "operation"), CASES)
def test_a_hanging_endpoint_never_holds_a_task_beyond_its_budget(
    sandbox, hang_conn, tmp_path, factory, hang, operation
):
    assert BUY_MSISDN in {n["msisdn"] for n in sandbox.admin.pool("GB")}
    op = factory(tmp_path)
    client = op.hook.get_conn()  # no I/O; kept because the exports close (and drop) their client when done
    if "rate" in hang:
        sandbox.admin.set_faults(hang_rate=hang["rate"], hang_seconds=HANG_SECONDS)
    else:
        sandbox.admin.queue_fault("hang", operation=hang["operation"], count=50, seconds=HANG_SECONDS)

    started = time.monotonic()
    with pytest.raises(NexmoTransportError) as raised:
        op.execute({})
    elapsed = time.monotonic() - started

    assert "timeout" in str(raised.value)
    assert ATTEMPTS * TIMEOUT * 0.95 <= elapsed <= BOUND, f"{elapsed:.2f} s, bound {BOUND:.2f} s"
    if operation == "token":
        assert client.stats["token_fetches"] == ATTEMPTS
        assert client.stats["requests"] == 0
    elif operation == "POST /number/buy":
        # Each timed-out purchase was followed by an ownership look-up (answered), then retried.
        assert raised.value.operation == operation
        assert client.stats["retries"] == MAX_RETRIES
    else:
        assert raised.value.operation == operation
        assert client.stats["requests"] == ATTEMPTS
    stats = sandbox.admin.stats()
    assert stats["purchases"] == {}
    assert stats["writes"] == 0
