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

How a purchase is claimed (`claimed_purchase`, used by the buy and ensure operators): claim the msisdn in the
ledger (one winner), mark the claim "buying" with the price, buy, then record the purchase (which deletes
the claim in the same transaction). A number claimed by another owner, or one the API refuses with 420
because the account already owns it through someone else, raises `Taken`: the caller moves on to another
candidate. `resume_purchase` is the other half: a new try of the same owner finds what an earlier try
bought (recorded, or killed between buy and record) before it buys anything.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from airflow_provider_nexmo_numbers.campaigns.plan import PlanItem, offered_cost

if TYPE_CHECKING:
    from airflow_provider_nexmo_numbers.client.models import AvailableNumber, BuyResult
    from airflow_provider_nexmo_numbers.hooks.nexmo_numbers import NexmoNumbersHook
    from airflow_provider_nexmo_numbers.ledger.core import Ledger

__all__ = [
    "NUMBER_TYPES",
    "PurchaseOutcome",
    "Taken",
    "buy_planned",
    "claimed_purchase",
    "fresh_offer",
    "needs_address",
    "offered_cost",
    "resume_purchase",
]

NUMBER_TYPES = ("landline", "mobile-lvn", "landline-toll-free")
#: How long a claim that has not reached the wire yet keeps other owners away (a crashed try's claim then
#: frees itself); a claim whose purchase was sent never expires by itself.
CLAIM_LEASE_SECONDS = 900.0
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


class Taken(Exception):
    """The number is not this owner's to buy: another owner claimed it, or the account already owns it
    through someone else. Not a refusal by the API: the caller tries another candidate."""

    def __init__(self, msisdn: str, reason: str) -> None:
        super().__init__(f"{msisdn}: {reason}")
        self.msisdn, self.reason = msisdn, reason


def claimed_purchase(
    ledger: Ledger,
    hook: Any,
    *,
    country: str,
    msisdn: str,
    owner: str,
    campaign: str | None = None,
    monthly_cost: Decimal | None,
    initial_price: Decimal | None = None,
    target_api_key: str | None = None,
    named: bool = False,
    lease_seconds: float = CLAIM_LEASE_SECONDS,
) -> BuyResult:
    """Claim, buy, record (see the module docstring). ``named``: the user asked for this very msisdn, so a
    420 for a number the account owns is reported as ``already_owned`` instead of `Taken` (nothing is
    recorded as this owner's purchase then). A refusal that is not "owned" (`NexmoMethodFailedError`)
    gives the claim up and propagates."""
    from airflow_provider_nexmo_numbers.client.errors import NexmoMethodFailedError

    claim = ledger.claim(msisdn, country, owner, campaign=campaign, lease_seconds=lease_seconds)
    if not claim.granted:
        raise Taken(msisdn, f"claimed by {claim.holder}")
    ledger.mark_buying(
        msisdn, owner, monthly_cost=monthly_cost, initial_price=initial_price, target_api_key=target_api_key
    )
    extra = {"target_api_key": target_api_key} if target_api_key else {}
    try:
        result = hook.buy_number(country, msisdn, **extra)
    except NexmoMethodFailedError:
        ledger.drop_claim(msisdn, owner)
        raise
    if result.refused_as_owned and claim.state != "buying":
        # The API refused *this* request because the account already owned the number, and no earlier try
        # of this owner had sent a purchase for it: someone else bought it.
        ledger.drop_claim(msisdn, owner)
        if named:
            return result
        raise Taken(msisdn, "the account already owns it, bought by someone else (420 for this purchase)")
    ledger.record_purchase(
        msisdn=msisdn,
        country=country,
        owner=owner,
        campaign=campaign,
        monthly_cost=monthly_cost,
        initial_price=initial_price,
        target_api_key=target_api_key,
    )
    return result


def resume_purchase(
    ledger: Ledger, hook: Any, *, owner: str, country: str | None = None, msisdn: str | None = None
) -> dict[str, Any] | None:
    """What an earlier try of ``owner`` bought and the account still owns, or None.

    A recorded purchase counts when the number is still owned. A claim left in state ``buying`` (a try killed
    between the purchase and its record) is resolved by looking at the account: owned -> recorded now as this
    owner's purchase at the claimed price; not owned -> the claim is given up.
    """

    def wanted(row: dict[str, Any]) -> bool:
        return (country is None or row["country"] == country) and (msisdn is None or row["msisdn"] == msisdn)

    for row in reversed(ledger.purchases(owner=owner)):
        if wanted(row) and hook.find_owned_number(row["msisdn"]) is not None:
            return row
    for row in ledger.claims(owner=owner):
        if not wanted(row):
            continue
        if row["state"] == "buying" and hook.find_owned_number(row["msisdn"]) is not None:
            ledger.record_purchase(
                msisdn=row["msisdn"],
                country=row["country"],
                owner=owner,
                campaign=row["campaign"],
                monthly_cost=row["monthly_cost"],
                initial_price=row["initial_price"],
                target_api_key=row["target_api_key"],
            )
            log.info(
                "%s: bought by an earlier try that stopped before recording it; recorded now", row["msisdn"]
            )
            return {**row, "owner": owner}
        ledger.drop_claim(row["msisdn"], owner)
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
        except Taken as taken:
            # Claimed or bought by someone else meanwhile: not a refusal of the account, try an alternate.
            replace(price, taken.reason, item.msisdn)
            continue
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
