"""Buy one number: a given msisdn, or the first affordable match of search criteria. Never twice.

How a purchase stays single across task retries (a crash, a worker kill or an `execution_timeout` can stop a
try after the API committed the purchase but before the task recorded it):

1. Within one try the client makes `buy_number` idempotent: after an ambiguous failure (dropped connection,
   read timeout) it looks at the owned numbers before retrying, and a 420 for a number the account owns is
   reported as `already_owned`.
2. Across tries, the operator writes a purchase record (country, msisdn, cost) to Airflow's per-task-instance
   ``task_state_store`` (Airflow >= 3.3) *before* sending the buy, and reads it first on every try. If the
   recorded number is owned, the try reports it (`already_owned: true`, with the recorded cost) and buys
   nothing. XCom cannot carry this: Airflow clears a task's XComs when a new try starts. The record is scoped
   to (dag_id, run_id, task_id, map_index), so mapped tasks each keep their own, and it survives a
   clear-and-rerun of the same run (a rerun returns the number it bought instead of buying another; trigger
   a new run to buy another). Without a task state store (Airflow < 3.3, or `op.execute({})` in a script)
   the msisdn path is still safe through (1) and (3); the criteria path then logs a warning that it cannot
   recognise an earlier try's purchase.
3. The msisdn path is naturally idempotent: a number no longer in the search but owned by the account is
   reported as `already_owned` instead of failing.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException

from airflow_provider_nexmo_numbers.operators.base import (
    NexmoBaseOperator,
    parse_bool,
    parse_money,
    validation,
)

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

    from airflow_provider_nexmo_numbers.client.models import AvailableNumber, OwnedNumber

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
    :param nexmo_conn_id: connection id (templated).

    XCom: ``{"country", "msisdn", "type", "features", "cost", "initial_price", "already_owned", "dry_run"}``;
    ``cost``/``initial_price`` are strings (None when unknown, e.g. a number owned before this task).
    ``already_owned`` is True when no purchase was made because the account already had the number (also after
    an earlier try of this task bought it).
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
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
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
        record = _PurchaseRecord(context)

        previous = record.get()
        if previous and previous.get("country") == country and msisdn in (None, previous["msisdn"]):
            owned = self.hook.find_owned_number(previous["msisdn"])
            if owned is not None:
                self.log.info(
                    "An earlier try of this task instance bought %s (%s); it is owned, nothing to buy.",
                    previous["msisdn"],
                    country,
                )
                return self._result(owned, cost=previous.get("cost"), already_owned=True, dry_run=dry_run)
            self.log.info(
                "An earlier try recorded buying %s, but the account does not own it; starting afresh.",
                previous["msisdn"],
            )

        if msisdn is not None:
            return self._buy_msisdn(country, msisdn, budget, dry_run, record)
        if not record.available and not dry_run:
            self.log.warning(
                "No task state store in this context (Airflow < 3.3 or a direct execute() call): a retry of "
                "this task could not recognise a number bought by an earlier try. Prefer msisdn= from a "
                "search task."
            )
        return self._buy_first_match(country, budget, dry_run, record)

    def _buy_msisdn(
        self, country: str, msisdn: str, budget: Decimal | None, dry_run: bool, record: _PurchaseRecord
    ) -> dict[str, Any]:
        offer = self._fresh_offer(country, msisdn, self.type)
        if offer is None:
            owned = self.hook.find_owned_number(msisdn)
            if owned is not None:
                self.log.info("%s (%s) is already owned by the account; nothing to buy.", msisdn, country)
                return self._result(owned, cost=None, already_owned=True, dry_run=dry_run)
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
            return self._purchase(country, msisdn, None, dry_run, record)
        self._check_budget(offer, budget)
        return self._purchase(country, msisdn, offer, dry_run, record)

    def _buy_first_match(
        self, country: str, budget: Decimal | None, dry_run: bool, record: _PurchaseRecord
    ) -> dict[str, Any]:
        examined = 0
        for candidate in self.hook.iter_available_numbers(
            country,
            **self.criteria_kwargs(),
            page_size=100 if budget is not None else 10,
            limit=MAX_CANDIDATES,
        ):
            examined += 1
            if budget is not None:
                if candidate.cost > budget:
                    continue
                # Re-read the price right before spending: the pool and its prices can move.
                fresh = self._fresh_offer(country, candidate.msisdn, candidate.type or self.type)
                if fresh is None or fresh.cost > budget:
                    self.log.info(
                        "%s is gone or got dearer since the search; trying the next.", candidate.msisdn
                    )
                    continue
                candidate = fresh
            return self._purchase(country, candidate.msisdn, candidate, dry_run, record)
        within = f" at or below max_monthly_cost {budget}" if budget is not None else ""
        raise AirflowException(
            f"No number available in {country} matching type={self.type!r} features={self.features!r} "
            f"pattern={self.pattern!r} search_pattern={self.search_pattern!r}{within} "
            f"({examined} examined)"
        )

    def _fresh_offer(self, country: str, msisdn: str, number_type: str | None) -> AvailableNumber | None:
        """The number as the search offers it right now (price included), or None (see
        `purchasing.fresh_offer`, shared with the ensure operator)."""
        from airflow_provider_nexmo_numbers.campaigns.purchasing import fresh_offer

        return fresh_offer(self.hook, country, msisdn, number_type)

    def _check_budget(self, offer: AvailableNumber, budget: Decimal | None) -> None:
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
        dry_run: bool,
        record: _PurchaseRecord,
    ) -> dict[str, Any]:
        cost = None if offer is None else str(offer.cost)
        if dry_run:
            self.log.info(
                "Dry run: would buy %s (%s) for %s per month; nothing bought.", msisdn, country, cost
            )
            return self._result(offer, country=country, msisdn=msisdn, already_owned=False, dry_run=True)
        # Written before the request so that a try killed mid-purchase leaves a trace for the next try.
        record.set({"country": country, "msisdn": msisdn, "cost": cost, "state": "buying"})
        result = self.hook.buy_number(country, msisdn)
        record.set({"country": country, "msisdn": msisdn, "cost": cost, "state": "bought"})
        if result.already_owned:
            self.log.info("%s (%s) was already owned (no second purchase).", msisdn, country)
        else:
            self.log.info("Bought %s (%s) for %s per month.", msisdn, country, cost)
        return self._result(
            offer, country=country, msisdn=msisdn, already_owned=result.already_owned, dry_run=False
        )

    @staticmethod
    def _result(
        number: AvailableNumber | OwnedNumber | None,
        *,
        country: str | None = None,
        msisdn: str | None = None,
        cost: str | None = None,
        already_owned: bool,
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
            "already_owned": already_owned,
            "dry_run": dry_run,
        }
