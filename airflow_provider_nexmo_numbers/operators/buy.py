"""Buy one number: a given msisdn, or the first affordable match of search criteria. Never twice, never
someone else's.

How a purchase stays single (see campaigns/purchasing.py and docs/ledger.md):

1. **The ledger** (every Airflow version): before buying, the task claims the msisdn in the ledger (one
   winner; owner = dag_id/run_id/task_id/map_index), marks the claim "buying" with the price, buys, then
   records the purchase. A candidate claimed by another owner is skipped; a 420 for a number the account owns
   through someone else is never this task's purchase (the criteria path moves on to the next candidate). A
   new try first asks the ledger what this owner bought (or was buying when it was killed) and reports that
   number (`already_owned: true`) instead of buying another. The ledger is opened before the first request:
   if it is unreachable or not configured for a distributed executor, the task fails having bought nothing.
2. Within one try the client makes `buy_number` idempotent: after an ambiguous failure it looks at the owned
   numbers before retrying.
3. Where Airflow has one (>= 3.3), the task instance's ``task_state_store`` keeps a purchase record as a
   cross-check that is logged when it disagrees with the ledger; it never makes a number this task's
   purchase (an intent written before the claim cannot tell "my try bought it" from "another owner did").

A dry run only reads the API and never touches the ledger.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException

from airflow_provider_nexmo_numbers.operators.base import (
    NexmoBaseOperator,
    open_task_ledger,
    parse_bool,
    parse_money,
    validation,
)

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

    from airflow_provider_nexmo_numbers.client.models import AvailableNumber, OwnedNumber
    from airflow_provider_nexmo_numbers.ledger.core import Ledger

PURCHASE_RECORD_KEY = "nexmo_numbers_purchase"
# How many search results the criteria path examines at most for an affordable number (10 full pages).
MAX_CANDIDATES = 1000
# Criteria that select a number; `type` is not among them because it also narrows the price check of a given
# msisdn (the KPN search defaults to landline when no type is given).
_CRITERIA = ("features", "pattern", "search_pattern")


class _PurchaseRecord:
    """The task instance's purchase record in Airflow's task state store (None-safe without a store)."""

    def __init__(self, context: Context | dict[str, Any] | None) -> None:
        self._store = (context or {}).get("task_state_store")

    @property
    def available(self) -> bool:
        return self._store is not None

    def get(self) -> dict[str, Any] | None:
        if self._store is None:
            return None
        value = self._store.get(PURCHASE_RECORD_KEY)
        return value if isinstance(value, dict) and value.get("msisdn") else None

    def set(self, record: dict[str, Any]) -> None:
        if self._store is not None:
            self._store.set(PURCHASE_RECORD_KEY, record)


class NexmoBuyNumberOperator(NexmoBaseOperator):
    """Buy a number, by msisdn or by search criteria, within an optional monthly budget; idempotent on retry.

    Give ``msisdn`` (e.g. mapped over a search's XCom) or search criteria (``type``, ``features``,
    ``pattern``, ``search_pattern``), not both; ``type`` may accompany ``msisdn`` to save look-ups. Just
    before buying, the number's cost is re-read from a fresh search (``pattern=msisdn``) and checked against
    ``max_monthly_cost``.

    :param country: ISO 3166-1 alpha-2 country code (templated).
    :param msisdn: the number to buy (templated).
    :param type: ``landline``, ``landline-toll-free`` or ``mobile-lvn``: a criterion, or with ``msisdn`` the
        number's type, which spares trying each type in the price check (templated).
    :param features: criteria: list or comma string of ``SMS``, ``VOICE``, ``MMS`` (templated).
    :param pattern: criteria: digits to match (templated).
    :param search_pattern: criteria: 0/``starts_with``, 1/``contains``, 2/``ends_with`` (templated).
    :param max_monthly_cost: refuse numbers costing more per month (EUR, exact decimal; templated).
    :param dry_run: find and price the number, buy nothing (templated).
    :param ledger_conn_id: the ledger's Airflow connection (templated); see docs/ledger.md.
    :param target_api_key: Vonage flavour: buy for this subaccount (templated); recorded in the ledger.
    :param nexmo_conn_id: connection id (templated).

    XCom: ``{"country", "msisdn", "type", "features", "cost", "initial_price", "already_owned", "dry_run",
    "owner"}``; ``cost``/``initial_price`` are strings (None when unknown, e.g. a number owned before this
    task). ``already_owned`` is True only when this task bought nothing because the ledger shows an earlier
    try of this task instance bought the number, or because the account already owned the msisdn you named.
    ``owner`` is the ledger owner key (None in a dry run).
    """

    template_fields: Sequence[str] = (
        "nexmo_conn_id",
        "country",
        "msisdn",
        "type",
        "features",
        "pattern",
        "search_pattern",
        "max_monthly_cost",
        "dry_run",
        "ledger_conn_id",
        "target_api_key",
    )

    def __init__(
        self,
        *,
        country: str,
        msisdn: str | None = None,
        type: str | None = None,
        features: str | Sequence[str] | None = None,
        pattern: str | None = None,
        search_pattern: int | str | None = None,
        max_monthly_cost: str | Decimal | int | float | None = None,
        dry_run: bool | str = False,
        ledger_conn_id: str | None = None,
        target_api_key: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.ledger_conn_id = ledger_conn_id
        self.target_api_key = target_api_key
        self.country = country
        self.msisdn = msisdn
        self.type = type
        self.features = features
        self.pattern = pattern
        self.search_pattern = search_pattern
        self.max_monthly_cost = max_monthly_cost
        self.dry_run = dry_run
        self.validate_at_construction()

    def validate_inputs(self) -> None:
        self.check_criteria()
        self.check_input("msisdn", lambda v: validation().validate_msisdn(v))
        self.check_input("max_monthly_cost", lambda v: parse_money("max_monthly_cost", v))
        self.check_input("dry_run", lambda v: parse_bool("dry_run", v), optional=False)
        given = [name for name in _CRITERIA if getattr(self, name) not in (None, "", [])]
        if self.msisdn is not None and given:
            self.fail_input(
                "msisdn",
                f"give either msisdn or search criteria, not both (also given: {', '.join(given)})",
            )

    # -- execution --

    def execute(self, context: Context) -> dict[str, Any]:
        self.validate_before_requests()
        country = validation().validate_country(self.country)
        msisdn = None if self.msisdn is None else validation().validate_msisdn(self.msisdn)
        budget = (
            None if self.max_monthly_cost is None else parse_money("max_monthly_cost", self.max_monthly_cost)
        )
        dry_run = parse_bool("dry_run", self.dry_run)
        if dry_run:
            if msisdn is not None:
                return self._buy_msisdn(country, msisdn, budget, None, "", _PurchaseRecord(None))
            return self._buy_first_match(country, budget, None, "", _PurchaseRecord(None))
        # Opened before the first request: no ledger, no purchase.
        ledger = open_task_ledger(self, self.ledger_conn_id)
        try:
            return self._execute(context, country, msisdn, budget, ledger)
        finally:
            ledger.close()

    def _execute(
        self,
        context: Context,
        country: str,
        msisdn: str | None,
        budget: Decimal | None,
        ledger: Ledger,
    ) -> dict[str, Any]:
        from airflow_provider_nexmo_numbers.campaigns.purchasing import resume_purchase
        from airflow_provider_nexmo_numbers.ledger.airflow import owner_of

        owner = owner_of(context, self.task_id)
        record = _PurchaseRecord(context)
        earlier = resume_purchase(ledger, self.hook, owner=owner, country=country, msisdn=msisdn)
        self._cross_check_task_state_store(record, earlier, ledger)
        if earlier is not None:
            owned = self.hook.find_owned_number(earlier["msisdn"])
            if owned is not None:
                self.log.info(
                    "An earlier try of this task instance bought %s (%s); it is owned, nothing to buy.",
                    earlier["msisdn"],
                    country,
                )
                return {
                    **self._result(
                        owned, cost=earlier.get("monthly_cost") or earlier.get("cost"), dry_run=False
                    ),
                    "already_owned": True,
                    "initial_price": earlier.get("initial_price"),
                    "owner": owner,
                }
        if msisdn is not None:
            return self._buy_msisdn(country, msisdn, budget, ledger, owner, record)
        return self._buy_first_match(country, budget, ledger, owner, record)

    def _cross_check_task_state_store(
        self, record: _PurchaseRecord, earlier: dict[str, Any] | None, ledger: Ledger
    ) -> None:
        """The second line (Airflow >= 3.3) detects, it never attributes: the store's record is written before
        the claim, so "my earlier try meant to buy X and the account owns X" also holds when that try died
        before sending and another owner then claimed and bought X. Only the ledger says whose X is."""
        previous = record.get()
        if previous is None or (earlier is not None and earlier["msisdn"] == previous["msisdn"]):
            return
        fact = ledger.facts([previous["msisdn"]]).get(previous["msisdn"])
        self.log.warning(
            "An earlier try of this task instance meant to buy %s, but the ledger does not record it as this "
            "task instance's purchase (%s); going by the ledger.",
            previous["msisdn"],
            f"recorded for {fact['owner']}" if fact else "no purchase of it recorded",
        )

    def _buy_msisdn(
        self,
        country: str,
        msisdn: str,
        budget: Decimal | None,
        ledger: Ledger | None,
        owner: str,
        record: _PurchaseRecord,
    ) -> dict[str, Any]:
        dry_run = ledger is None
        offer = self._fresh_offer(country, msisdn, self.type)
        if offer is None:
            owned = self.hook.find_owned_number(msisdn)
            if owned is not None:
                self.log.info("%s (%s) is already owned by the account; nothing to buy.", msisdn, country)
                return {**self._result(owned, dry_run=dry_run), "already_owned": True, "owner": owner or None}
            if budget is not None or dry_run:
                raise AirflowException(
                    f"msisdn {msisdn} is not available to buy in {country}: a fresh search does not offer it "
                    "and the account does not own it" + (" (dry run: nothing bought)" if dry_run else "")
                )
            # Not offered, not owned and no budget to check: let the API give the authoritative answer (its
            # 420 label says why, e.g. an address-required country).
            self.log.info(
                "%s is not in a fresh search of %s; asking the API to buy it anyway.", msisdn, country
            )
            return self._purchase_named(country, msisdn, None, ledger, owner, record)
        self._check_offer(offer, budget)
        return self._purchase_named(country, msisdn, offer, ledger, owner, record)

    def _purchase_named(self, *args: Any) -> dict[str, Any]:
        from airflow_provider_nexmo_numbers.campaigns.purchasing import Taken

        try:
            return self._purchase(*args, named=True)
        except Taken as err:
            raise AirflowException(f"{err}; nothing bought (retry once it is released or bought)") from err

    def _buy_first_match(
        self,
        country: str,
        budget: Decimal | None,
        ledger: Ledger | None,
        owner: str,
        record: _PurchaseRecord,
    ) -> dict[str, Any]:
        from airflow_provider_nexmo_numbers.campaigns.purchasing import Taken, offered_cost

        held = {} if ledger is None else ledger.held_elsewhere(owner=owner, campaign=None)
        examined = taken = anomalies = 0
        for candidate in self.hook.iter_available_numbers(
            country,
            **self.criteria_kwargs(),
            page_size=100 if budget is not None else 10,
            limit=MAX_CANDIDATES,
        ):
            examined += 1
            if candidate.msisdn in held:
                taken += 1
                continue
            if offered_cost(candidate.cost) is None:
                anomalies += 1
                self.log.warning(
                    "API anomaly: %s is offered at %r per month (negative or not a finite price); skipped.",
                    candidate.msisdn,
                    str(candidate.cost),
                )
                continue
            if budget is not None:
                if candidate.cost > budget:
                    continue
                # Re-read the price right before spending: the pool and its prices can move.
                fresh = self._fresh_offer(country, candidate.msisdn, candidate.type or self.type)
                if fresh is None or offered_cost(fresh.cost) is None or fresh.cost > budget:
                    self.log.info(
                        "%s is gone or got dearer since the search; trying the next.", candidate.msisdn
                    )
                    continue
                candidate = fresh
            try:
                return self._purchase(
                    country, candidate.msisdn, candidate, ledger, owner, record, named=False
                )
            except Taken as err:
                taken += 1
                self.log.info("%s; trying the next candidate.", err)
        within = f" at or below max_monthly_cost {budget}" if budget is not None else ""
        raise AirflowException(
            f"No number available in {country} matching type={self.type!r} features={self.features!r} "
            f"pattern={self.pattern!r} search_pattern={self.search_pattern!r}{within} "
            f"({examined} examined, {taken} claimed or bought by others, {anomalies} with anomalous prices)"
        )

    def _fresh_offer(self, country: str, msisdn: str, number_type: str | None) -> AvailableNumber | None:
        """The number as the search offers it right now (price included), or None (see
        `purchasing.fresh_offer`, shared with the ensure operator)."""
        from airflow_provider_nexmo_numbers.campaigns.purchasing import fresh_offer

        return fresh_offer(self.hook, country, msisdn, number_type)

    def _check_offer(self, offer: AvailableNumber, budget: Decimal | None) -> None:
        from airflow_provider_nexmo_numbers.campaigns.purchasing import offered_cost

        if offered_cost(offer.cost) is None:
            raise AirflowFailException(
                f"API anomaly: {offer.msisdn} ({offer.country}) is offered at {str(offer.cost)!r} per "
                "month, a negative or non-finite price; nothing bought"
            )
        if budget is not None and offer.cost > budget:
            raise AirflowFailException(
                f"max_monthly_cost exceeded: {offer.msisdn} ({offer.country}) costs {offer.cost} per month, "
                f"above max_monthly_cost {budget}; nothing bought"
            )

    def _purchase(
        self,
        country: str,
        msisdn: str,
        offer: AvailableNumber | None,
        ledger: Ledger | None,
        owner: str,
        record: _PurchaseRecord,
        *,
        named: bool,
    ) -> dict[str, Any]:
        from airflow_provider_nexmo_numbers.campaigns.purchasing import claimed_purchase

        cost = None if offer is None else str(offer.cost)
        if ledger is None:
            self.log.info(
                "Dry run: would buy %s (%s) for %s per month; nothing bought.", msisdn, country, cost
            )
            return self._result(offer, country=country, msisdn=msisdn, dry_run=True)
        # Written before the request so that a try killed mid-purchase leaves a trace for the next try.
        record.set({"country": country, "msisdn": msisdn, "cost": cost, "state": "buying"})
        result = claimed_purchase(
            ledger,
            self.hook,
            country=country,
            msisdn=msisdn,
            owner=owner,
            monthly_cost=None if offer is None else offer.cost,
            initial_price=None if offer is None else offer.initial_price,
            target_api_key=self.target_api_key or None,
            named=named,
        )
        record.set({"country": country, "msisdn": msisdn, "cost": cost, "state": "bought"})
        if result.already_owned:
            self.log.info("%s (%s) was already owned (no second purchase).", msisdn, country)
        else:
            self.log.info("Bought %s (%s) for %s per month.", msisdn, country, cost)
        return {
            **self._result(offer, country=country, msisdn=msisdn, dry_run=False),
            "already_owned": result.already_owned,
            "owner": owner,
        }

    @staticmethod
    def _result(
        number: AvailableNumber | OwnedNumber | None,
        *,
        country: str | None = None,
        msisdn: str | None = None,
        cost: str | None = None,
        dry_run: bool,
    ) -> dict[str, Any]:
        data = number.to_dict() if number is not None else {}
        return {
            "country": data.get("country", country),
            "msisdn": data.get("msisdn", msisdn),
            "type": data.get("type"),
            "features": data.get("features", []),
            "cost": data.get("cost", cost),
            "initial_price": data.get("initial_price"),
            "already_owned": False,
            "dry_run": dry_run,
            "owner": None,
        }
