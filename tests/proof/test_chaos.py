"""Chaos: a whole campaign under roughly a quarter of failed requests ends in exactly the desired inventory.

The sandbox injects, from a seeded generator (same request sequence -> same faults): 500/502/503 and 429 with
Retry-After, latency on every request, purchases/cancellations/updates that commit and then drop the
connection without an answer, and token revocations mid-run. The campaign runs as a real DAG with
`dag.test()` (tasks in-process, Airflow's own retries and task state store): buy and configure 50 numbers,
reconfigure all 50, release 25, export the account into SQLite. Airflow task retries are part of the
contract: a task may fail when the client's retry budget runs out, and the retry must converge.

What must hold at the end, checked against the sandbox's own books (not against what the operators claim):
every msisdn bought at most once, only the 25 chosen numbers cancelled (each once), untouched numbers
untouched, every kept number carrying the requested configuration, and the export holding exactly the
account's numbers.

Retry waits: the connection's `backoff_base`/`backoff_max` extras shorten the client's waits between retries
to 20-100 ms (production defaults 0.5-30 s), and the sandbox's injected 429s ask for `Retry-After: 0.05`
(its `retry_after` fault setting; 1 s by default), which the client honours as in production. Both are
configuration a deployment could set too; nothing in the provider is patched.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections import Counter

import pytest

from airflow_provider_nexmo_numbers.hooks.nexmo_numbers import NexmoNumbersHook
from tests.fixtures.airflow import set_nexmo_connection
from tests.fixtures.airflow_db import return_value
from tests.proof.conftest import load_dag, task_states

pytestmark = [pytest.mark.airflow_db, pytest.mark.timeout(240)]

SEED = 20260101
FAULTS = {
    "error_rate": 0.20,
    "error_statuses": (500, 502, 503, 429),
    "retry_after": 0.05,  # seconds the injected 429s ask the client to wait
    "latency_ms": 3,
    "drop_after_commit_rate": 0.03,
    "revoke_token_rate": 0.02,
    "seed": SEED,
}
COUNT, RELEASE = 50, 25
TEL_V2, SMPP_V2 = "447700900123", "proof-v2"
OTHERS_GB, OTHERS_NL = 10, 5


def test_campaign_under_chaos_ends_in_exactly_the_desired_inventory(
    sandbox, proof_dags, tmp_path, monkeypatch
):
    set_nexmo_connection(
        monkeypatch,
        "nexmo_numbers_default",
        sandbox,
        max_retries=3,
        timeout=5,
        backoff_base=0.02,  # seconds before the first retry, doubled per retry ...
        backoff_max=0.1,  # ... up to this: short waits, the same retry logic as in production
    )
    policy = NexmoNumbersHook("nexmo_numbers_default").get_conn().retry_policy  # no I/O
    assert (policy.backoff_base, policy.backoff_max) == (0.02, 0.1)
    warehouse = tmp_path / "warehouse.db"
    sqlite_conn = {"conn_type": "sqlite", "host": str(warehouse)}
    monkeypatch.setenv("AIRFLOW_CONN_PROOF_SQLITE", json.dumps(sqlite_conn))
    # Numbers the account holds before the campaign, of the same kind and not: none may be touched.
    sandbox.admin.seed_owned(OTHERS_GB, country="GB", configured=True)
    sandbox.admin.seed_owned(OTHERS_NL, country="NL", configured=False)
    others = {n["msisdn"]: n for n in sandbox.admin.owned()}
    hook = sandbox.admin.webhook_url("proof-chaos", ready_after=0)
    dag = load_dag("nexmo_proof_chaos")
    sandbox.admin.set_faults(**FAULTS)

    started = time.monotonic()
    dag_run = dag.test(run_conf={"hook": hook, "count": COUNT, "release": RELEASE})
    elapsed = time.monotonic() - started

    states = task_states(dag_run)
    assert dag_run.state == "success", states
    stats = sandbox.admin.stats()
    print(json.dumps({k: stats[k] for k in ("requests", "faults", "api_requests", "token_requests")}))
    sandbox.admin.set_faults()  # faults off before reading the account for the assertions
    owned = {n["msisdn"]: n for n in sandbox.admin.owned()}

    # The chaos really happened, of every kind.
    assert stats["faults"].get("status", 0) >= 40, stats["faults"]
    assert stats["faults"].get("drop_after_commit", 0) >= 3, stats["faults"]
    assert stats["faults"].get("revoke_token", 0) >= 3, stats["faults"]
    answered = Counter()
    for counts in stats["requests"].values():
        answered.update(counts)
    assert all(answered[str(status)] > 0 for status in (429, 500, 502, 503)), answered

    # Bought: exactly the campaign's 50 numbers, each once, none of them a number the account already had.
    campaign = return_value(dag_run, "update_numbers")["msisdns"]
    assert len(campaign) == COUNT
    assert sorted(stats["purchases"]) == sorted(campaign)
    assert set(stats["purchases"].values()) == {1}
    assert not set(campaign) & set(others)

    # Released: exactly the 25 chosen, each once; nothing that should be kept was cancelled.
    chosen = return_value(dag_run, "pick_release")
    assert chosen == sorted(campaign)[:RELEASE]
    assert sorted(stats["cancellations"]) == chosen
    assert set(stats["cancellations"].values()) == {1}
    kept = sorted(set(campaign) - set(chosen))
    assert sorted(owned) == sorted([*others, *kept])

    # Configuration: the untouched numbers are as they were; every kept number carries what was asked last.
    for msisdn, before in others.items():
        assert owned[msisdn] == before
    for msisdn in kept:
        number = owned[msisdn]
        assert number["moHttpUrl"] == hook, number
        assert number["voiceCallbackType"] == "tel", number
        assert number["voiceCallbackValue"] == TEL_V2, number
        assert number["moSmppSysType"] == SMPP_V2, number
        assert (number["country"], number["type"]) == ("GB", "mobile-lvn"), number

    # Export: one row per number the account owns, no more, no fewer, with the account's settings.
    exported = return_value(dag_run, "export_inventory")
    db = sqlite3.connect(warehouse)
    rows = db.execute(
        "SELECT msisdn, mo_http_url, voice_callback_value, mo_smpp_sys_type FROM proof_inventory "
        "WHERE snapshot_id = ?",
        (dag_run.run_id,),
    ).fetchall()
    db.close()
    assert exported["rows"] == len(rows) == len(owned) == OTHERS_GB + OTHERS_NL + COUNT - RELEASE
    assert sorted(r[0] for r in rows) == sorted(owned)
    for msisdn, url, sip, smpp in rows:
        if msisdn in kept:
            assert (url, sip, smpp) == (hook, TEL_V2, SMPP_V2)

    print(
        f"chaos run: {elapsed:.1f} s, faults {stats['faults']}, api requests {stats['api_requests']}, "
        f"tokens issued {stats['tokens_issued']}, task tries {states}"
    )
