"""NexmoBuyNumberOperator against the sandbox: by msisdn and by criteria, budgets, dry runs, 420s, and
idempotency across client retries and task tries."""

from __future__ import annotations

from decimal import Decimal

import pytest
from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException

from airflow_provider_nexmo_numbers.client.errors import NexmoMethodFailedError, NexmoNumbersError
from airflow_provider_nexmo_numbers.operators.buy import PURCHASE_RECORD_KEY, NexmoBuyNumberOperator
from airflow_provider_nexmo_numbers.operators.search import NexmoSearchNumbersOperator
from tests.operators.conftest import task_instance, total


def _offers(country="NL", type="mobile-lvn", **kwargs):
    return NexmoSearchNumbersOperator(task_id="s", country=country, type=type, limit=1000, **kwargs).execute(
        {}
    )


def _buy(context=None, **kwargs):
    return NexmoBuyNumberOperator(task_id="buy", **kwargs).execute(context=context or {})


def _owned(sandbox):
    return {n["msisdn"] for n in sandbox.admin.owned()}


def test_buy_by_msisdn(sandbox, nexmo_conn):
    offer = _offers()[3]

    result = _buy(country="NL", msisdn=offer["msisdn"])

    assert result == {**offer, "already_owned": False, "dry_run": False, "owner": result["owner"]}
    assert result["owner"].startswith("adhoc/buy/")  # outside a task run: an owner of its own
    assert sandbox.admin.stats()["purchases"] == {offer["msisdn"]: 1}
    assert offer["msisdn"] in _owned(sandbox)


def test_buying_an_owned_number_again_is_success_flagged(sandbox, nexmo_conn):
    offer = _offers()[0]
    _buy(country="NL", msisdn=offer["msisdn"])

    again = _buy(country="NL", msisdn=offer["msisdn"], max_monthly_cost="0.01")

    assert again["already_owned"] is True
    assert again["msisdn"] == offer["msisdn"]
    assert sandbox.admin.stats()["purchases"] == {offer["msisdn"]: 1}


def test_number_not_available_is_the_apis_420(sandbox, nexmo_conn):
    offer = _offers()[0]
    unavailable = offer["msisdn"][:-4] + ("0000" if not offer["msisdn"].endswith("0000") else "0001")
    assert unavailable not in {o["msisdn"] for o in _offers()}

    with pytest.raises(NexmoMethodFailedError) as caught:
        _buy(country="NL", msisdn=unavailable)

    assert caught.value.status == 420
    assert unavailable in str(caught.value)
    assert sandbox.admin.stats()["purchases"] == {}


def test_address_required_country_is_a_420_with_its_label(sandbox, nexmo_conn):
    offer = _offers(country="FR", type="landline")[0]

    with pytest.raises(NexmoMethodFailedError) as caught:
        _buy(country="FR", msisdn=offer["msisdn"])

    assert caught.value.status == 420
    assert "address" in (caught.value.error_code_label or "").lower()
    assert sandbox.admin.stats()["purchases"] == {}


def test_dry_run_by_msisdn_buys_nothing(sandbox, nexmo_conn):
    offer = _offers()[1]

    result = _buy(country="NL", msisdn=offer["msisdn"], dry_run=True, max_monthly_cost=offer["cost"])

    assert result == {**offer, "already_owned": False, "dry_run": True, "owner": None}
    stats = sandbox.admin.stats()
    assert stats["purchases"] == {}
    assert stats["writes"] == 0


def test_dry_run_of_an_unavailable_number_fails_without_buying(sandbox, nexmo_conn):
    with pytest.raises(AirflowException, match="not available"):
        _buy(country="NL", msisdn="31000000001", dry_run="true")
    assert sandbox.admin.stats()["writes"] == 0


def test_budget_is_checked_against_a_fresh_search(sandbox, nexmo_conn):
    offer = _offers()[0]
    too_little = Decimal(offer["cost"]) - Decimal("0.01")

    with pytest.raises(AirflowFailException, match="max_monthly_cost"):
        _buy(country="NL", type="mobile-lvn", msisdn=offer["msisdn"], max_monthly_cost=str(too_little))

    stats = sandbox.admin.stats()
    assert stats["purchases"] == {}
    # the price was read from a search for exactly this number, not from an older list
    assert stats["requests"]["GET /number/search"] == {"200": 2}


def test_buy_by_criteria_takes_the_first_affordable_match(sandbox, nexmo_conn):
    offers = _offers(type="mobile-lvn", features="SMS")
    budget = min(Decimal(o["cost"]) for o in offers)
    expected = next(o for o in offers if Decimal(o["cost"]) <= budget)

    result = _buy(country="NL", type="mobile-lvn", features="SMS", max_monthly_cost=str(budget))

    assert result["msisdn"] == expected["msisdn"]
    assert Decimal(result["cost"]) <= budget
    assert result["already_owned"] is False
    assert sandbox.admin.stats()["purchases"] == {expected["msisdn"]: 1}


def test_buy_by_criteria_dry_run(sandbox, nexmo_conn):
    first = _offers(type="landline", country="GB", pattern="44", search_pattern=0)[0]

    result = _buy(country="GB", type="landline", pattern="44", search_pattern="starts_with", dry_run=True)

    assert result == {**first, "already_owned": False, "dry_run": True, "owner": None}
    assert sandbox.admin.stats()["writes"] == 0


def test_buy_by_criteria_without_an_affordable_match_fails(sandbox, nexmo_conn):
    with pytest.raises(AirflowException, match="No number available"):
        _buy(country="NL", type="mobile-lvn", max_monthly_cost="0")
    assert sandbox.admin.stats()["purchases"] == {}


def test_dropped_connection_after_the_purchase_is_one_purchase(sandbox, nexmo_conn):
    offer = _offers()[2]
    sandbox.admin.queue_fault("drop_after_commit", operation="POST /number/buy")

    result = _buy(country="NL", msisdn=offer["msisdn"])

    assert result["msisdn"] == offer["msisdn"]
    assert result["cost"] == offer["cost"]
    stats = sandbox.admin.stats()
    assert stats["purchases"] == {offer["msisdn"]: 1}
    assert offer["msisdn"] in _owned(sandbox)


def _crash_first_try_after_commit(sandbox):
    """The buy commits but its answer is lost, and the client's own look-up keeps failing: the try dies."""
    sandbox.admin.queue_fault("drop_after_commit", operation="POST /number/buy")
    sandbox.admin.queue_fault("status", operation="GET /account/numbers", status=503, count=50)


@pytest.mark.parametrize("by", ["msisdn", "criteria"])
def test_task_retry_after_a_crash_never_buys_twice(sandbox, nexmo_conn, task_store, by):
    offers = _offers(type="mobile-lvn", features="VOICE")
    target = offers[0]
    kwargs = {"msisdn": target["msisdn"]} if by == "msisdn" else {"type": "mobile-lvn", "features": "VOICE"}
    context = {"task_state_store": task_store, "ti": task_instance()}
    _crash_first_try_after_commit(sandbox)

    with pytest.raises(NexmoNumbersError):
        _buy(context, country="NL", **kwargs)
    assert sandbox.admin.stats()["purchases"] == {target["msisdn"]: 1}
    assert task_store.data[PURCHASE_RECORD_KEY]["msisdn"] == target["msisdn"]

    sandbox.admin.clear_fault_queue()
    second_try = _buy(context, country="NL", **kwargs)

    assert second_try["msisdn"] == target["msisdn"]
    assert second_try["already_owned"] is True
    assert second_try["cost"] == target["cost"]
    stats = sandbox.admin.stats()
    assert stats["purchases"] == {target["msisdn"]: 1}
    assert total(stats["purchases"]) == 1


def test_without_a_store_a_retry_of_the_msisdn_path_is_still_single(sandbox, nexmo_conn):
    target = _offers()[5]
    _crash_first_try_after_commit(sandbox)
    with pytest.raises(NexmoNumbersError):
        _buy(country="NL", msisdn=target["msisdn"])
    sandbox.admin.clear_fault_queue()

    second_try = _buy(country="NL", msisdn=target["msisdn"])

    assert second_try["already_owned"] is True
    assert sandbox.admin.stats()["purchases"] == {target["msisdn"]: 1}


def test_record_of_a_number_lost_meanwhile_is_ignored(sandbox, nexmo_conn, task_store):
    # An earlier try recorded a number but its purchase never happened: the next try starts afresh.
    offers = _offers()
    task_store.set(PURCHASE_RECORD_KEY, {"country": "NL", "msisdn": "31000000009", "cost": "9.99"})

    result = _buy({"task_state_store": task_store, "ti": task_instance()}, country="NL", type="mobile-lvn")

    assert result["msisdn"] == offers[0]["msisdn"]
    assert result["already_owned"] is False
    assert task_store.data[PURCHASE_RECORD_KEY]["msisdn"] == offers[0]["msisdn"]


def test_without_a_store_a_retry_by_criteria_is_single_through_the_ledger(sandbox, nexmo_conn):
    """Airflow 3.1/3.2 have no task state store: the ledger alone recognises the earlier try's purchase."""
    target = _offers(type="mobile-lvn", features="VOICE")[0]
    context = {"ti": task_instance()}  # no task_state_store, as on Airflow < 3.3
    _crash_first_try_after_commit(sandbox)
    with pytest.raises(NexmoNumbersError):
        _buy(context, country="NL", type="mobile-lvn", features="VOICE")
    sandbox.admin.clear_fault_queue()

    second_try = _buy(context, country="NL", type="mobile-lvn", features="VOICE")

    assert second_try["msisdn"] == target["msisdn"]
    assert second_try["already_owned"] is True
    assert second_try["cost"] == target["cost"]
    assert sandbox.admin.stats()["purchases"] == {target["msisdn"]: 1}


def test_a_number_someone_else_bought_is_never_this_tasks_purchase(sandbox, nexmo_conn, monkeypatch):
    """A 420 for a number the account owns through another buyer: the criteria path moves on."""
    from airflow_provider_nexmo_numbers.campaigns import purchasing

    first, second = _offers(type="mobile-lvn")[:2]
    real_fresh_offer = purchasing.fresh_offer

    def stale_offer(hook, country, msisdn, number_type):
        # Someone outside the ledger buys the number between our fresh price check and our purchase.
        offer = real_fresh_offer(hook, country, msisdn, number_type)
        if msisdn == first["msisdn"]:
            hook.buy_number(country, msisdn)
        return offer

    monkeypatch.setattr(purchasing, "fresh_offer", stale_offer)
    result = _buy(country="NL", type="mobile-lvn", max_monthly_cost="100")

    assert result["msisdn"] == second["msisdn"]
    assert result["already_owned"] is False
    assert sandbox.admin.stats()["purchases"] == {first["msisdn"]: 1, second["msisdn"]: 1}


@pytest.mark.parametrize("price", ["-3.00", "NaN", "Infinity"])
def test_an_anomalous_offer_price_is_never_bought(sandbox, nexmo_conn, monkeypatch, price):
    # The sandbox never offers such prices, so the fresh offer (read over HTTP) gets its cost replaced.
    from airflow_provider_nexmo_numbers.campaigns import purchasing

    offer = _offers()[0]
    real_fresh_offer = purchasing.fresh_offer

    def anomalous(hook, country, msisdn, number_type):
        found = real_fresh_offer(hook, country, msisdn, number_type)
        return None if found is None else found.model_copy(update={"cost": Decimal(price)})

    monkeypatch.setattr(purchasing, "fresh_offer", anomalous)

    with pytest.raises(AirflowFailException, match="API anomaly"):
        _buy(country="NL", msisdn=offer["msisdn"], max_monthly_cost="2.00")
    assert sandbox.admin.stats()["purchases"] == {}


def test_a_recorded_intent_never_makes_someone_elses_purchase_ours(sandbox, nexmo_conn, task_store):
    """Seen on Celery with a worker SIGKILLed: try 1 recorded its intent for X in the task state store and
    claimed X, then died before sending the buy; its claim expired, another task instance claimed X, bought
    it and recorded it. Try 2 must not report X as its own purchase (two instances claiming one number, one
    number lost): the ledger says whose X is, and try 2 buys another number."""
    from airflow_provider_nexmo_numbers.ledger.airflow import open_ledger

    offers = _offers(type="mobile-lvn", features="VOICE")
    taken = offers[0]["msisdn"]
    task_store.set(PURCHASE_RECORD_KEY, {"country": "NL", "msisdn": taken, "cost": "1.00", "state": "buying"})
    other = _buy({"ti": task_instance(task_id="other")}, country="NL", msisdn=taken)
    assert other["already_owned"] is False
    ledger = open_ledger(None)
    try:
        assert ledger.facts([taken])[taken]["owner"] == other["owner"]
    finally:
        ledger.close()

    retry = _buy(
        {"task_state_store": task_store, "ti": task_instance()},
        country="NL",
        type="mobile-lvn",
        features="VOICE",
    )

    assert retry["msisdn"] != taken
    assert retry["already_owned"] is False
    assert sandbox.admin.stats()["purchases"] == {taken: 1, retry["msisdn"]: 1}
