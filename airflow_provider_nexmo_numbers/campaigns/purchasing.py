"""Buying numbers safely: the fresh price check shared by the buy and ensure operators, and ensure's purchase
loop.

Why a fresh price check: a search result is a snapshot, and prices can move between planning and spending.
Both operators re-read a number's price with a search of exactly that msisdn right before buying it.

Why the loop gives up: a 420 on a purchase means "taken by someone else" only sometimes. An address-required
country or an account without credit refuses *every* purchase with 420, and walking the whole list of
cheaper alternatives then costs two requests per candidate and hides the API's reason. So the loop stops at
once when the label says the country needs an address, and after a few refusals in a row otherwise, and
reports the API's ``error-code-label``.

`buy_planned` is pure apart from its two injected callables (price look-up, purchase), so its rules are
unit-tested without a server.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from airflow_provider_nexmo_numbers.campaigns.plan import PlanItem

if TYPE_CHECKING:
    from airflow_provider_nexmo_numbers.client.models import AvailableNumber
    from airflow_provider_nexmo_numbers.hooks.nexmo_numbers import NexmoNumbersHook

__all__ = ["NUMBER_TYPES", "PurchaseOutcome", "buy_planned", "fresh_offer", "needs_address"]

NUMBER_TYPES = ("landline", "mobile-lvn", "landline-toll-free")
#: Refusals (420 for numbers the account does not own afterwards) in a row after which the loop gives up.
MAX_CONSECUTIVE_REFUSALS = 3
_ADDRESS = re.compile(r"\baddress\b", re.IGNORECASE)

log = logging.getLogger(__name__)


def fresh_offer(
    hook: NexmoNumbersHook, country: str, msisdn: str, number_type: str | None
) -> AvailableNumber | None:
    """The number as the search offers it right now (price included), or None if it is not offered.

    The search of one exact number needs its type (KPN searches landlines when none is given), so without a
    known type each type is tried in turn.
    """
    from airflow_provider_nexmo_numbers.client.validation import validate_number_type

    types = [validate_number_type(number_type)] if number_type else list(NUMBER_TYPES)
    for candidate_type in types:
        page = hook.search_available_numbers(
            country, type=candidate_type, pattern=msisdn, search_pattern=0, size=10
        )
        offer = next((number for number in page.numbers if number.msisdn == msisdn), None)
        if offer is not None:
            return offer
    return None


def needs_address(error: Any) -> bool:
    """True when a 420's label says the country requires a local address (Vonage: "... as they require a
    valid local address to be provided before being purchased.")."""
    return bool(_ADDRESS.search(getattr(error, "error_code_label", None) or ""))


@dataclasses.dataclass
class PurchaseOutcome:
    """What `buy_planned` did: ``bought`` (item at the price paid, the purchase's result), ``skipped``
    (``{"msisdn", "reason"}``) and ``stopped`` (why the remaining purchases were abandoned, quoting the API's
    label; None when the loop ran to its end)."""

    bought: list[tuple[PlanItem, Any]] = dataclasses.field(default_factory=list)
    skipped: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    stopped: str | None = None


def buy_planned(
    queue: Sequence[PlanItem],
    alternates: Sequence[PlanItem],
    *,
    reserved: Decimal,
    budget: Decimal | None,
    max_monthly_cost: Decimal | None,
    current_price: Callable[[PlanItem], Decimal | None],
    buy: Callable[[PlanItem], Any],
    configure: Callable[[PlanItem], None] | None = None,
    max_consecutive_refusals: int = MAX_CONSECUTIVE_REFUSALS,
    logger: logging.Logger | None = None,
) -> PurchaseOutcome:
    """Buy ``queue`` one by one; a number that cannot be had is replaced by the cheapest alternate that fits.

    :param reserved: monthly cost already committed: owned numbers plus every queued purchase at its planned
        price. A substitute only takes the budget its predecessor freed, so the total never exceeds
        ``budget`` whatever the order.
    :param current_price: the number's price now (a fresh search), None when it is no longer offered. A number
        no longer offered, dearer than ``max_monthly_cost``, or whose new price would push the total over
        ``budget`` is skipped like a taken one.
    :param buy: buys one number; raises `NexmoMethodFailedError` (420) when refused.
    :param configure: called right after each purchase; its errors (even a 420 of the update) propagate: they
        are not purchase refusals.
    """
    from airflow_provider_nexmo_numbers.client.errors import NexmoMethodFailedError

    logger = logger or log
    out = PurchaseOutcome()
    pending = list(queue)
    spare = list(alternates)
    refusals = 0

    def replace(freed: Decimal, reason: str, msisdn: str) -> None:
        nonlocal reserved
        out.skipped.append({"msisdn": msisdn, "reason": reason})
        reserved -= freed
        substitute = next(
            (a for a in spare if budget is None or reserved + (a.monthly_cost or 0) <= budget), None
        )
        logger.warning(
            "could not buy %s (%s); %s",
            msisdn,
            reason,
            f"trying {substitute.msisdn} instead" if substitute else "no affordable alternate left",
        )
        if substitute is not None:
            spare.remove(substitute)
            reserved += substitute.monthly_cost or Decimal(0)
            pending.append(substitute)

    while pending:
        item = pending.pop(0)
        planned = item.monthly_cost or Decimal(0)
        price = current_price(item)
        if price is None:
            replace(planned, "no longer offered by a fresh search", item.msisdn)
            continue
        if max_monthly_cost is not None and price > max_monthly_cost:
            reason = f"now costs EUR {price}, above max_monthly_cost EUR {max_monthly_cost}"
            replace(planned, reason, item.msisdn)
            continue
        if budget is not None and reserved - planned + price > budget:
            replace(
                planned,
                f"now costs EUR {price} (planned EUR {planned}), the total would exceed monthly_budget "
                f"EUR {budget}",
                item.msisdn,
            )
            continue
        reserved += price - planned
        item = dataclasses.replace(item, monthly_cost=price)
        logger.info("buy %s (%s, EUR %s/month)", item.msisdn, item.country, price)
        try:
            result = buy(item)
        except NexmoMethodFailedError as err:
            refusals += 1
            label = err.error_code_label or "no label"
            if needs_address(err):
                out.skipped.append({"msisdn": item.msisdn, "reason": str(err)})
                out.stopped = (
                    f"the API refuses purchases in {item.country} without a local address "
                    f"(420, error-code-label {label!r}); no other {item.country} number was tried"
                )
            elif refusals >= max_consecutive_refusals:
                out.skipped.append({"msisdn": item.msisdn, "reason": str(err)})
                out.stopped = (
                    f"{refusals} consecutive purchases were refused with 420 (last error-code-label "
                    f"{label!r}), e.g. no credit on the account; stopped trying alternates"
                )
            else:
                replace(price, str(err), item.msisdn)
                continue
            logger.error("%s", out.stopped)
            break
        refusals = 0
        if configure is not None:
            configure(item)
        out.bought.append((item, result))
    return out
