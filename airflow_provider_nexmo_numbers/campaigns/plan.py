"""Pure planning for provisioning campaigns: what `NexmoEnsureNumbersOperator` would do, before money is
spent.

`build_plan()` takes what the API told us (owned numbers, available numbers) and what the user wants, and
returns a `Plan`. No I/O happens here, so every rule below is unit-tested without a server.

Semantics (see also docs/campaigns.md):

- **Campaign numbers** are owned numbers matching the selector's identity criteria *and* its marker (see
  `selector.py`). With no marker, every owned number matching the identity criteria is the campaign's.
- The desired **configuration** is the marker merged with the extra settings the user asks for; applying it to
  a number makes that number match the marker, so it is recognised as the campaign's on the next run.
- Up to ``count`` campaign numbers are taken, already-configured ones first, then by msisdn: those whose
  settings equal the configuration are **keep** (no request), the others **reconfigure** (one update each).
  Campaign numbers beyond ``count`` are **surplus**: reported, never touched (releasing is
  `NexmoReleaseNumbersOperator`'s job).
- **adopt** fills the gap before anything is bought, first with ``claimed`` numbers (msisdns an earlier try of
  the same task bought, from its purchase journal: owned and matching the identity criteria, whatever their
  settings), then, when ``adopt_unconfigured`` is true, with owned numbers that match the identity criteria
  but carry no setting at all (how a number looks between purchase and configuration, e.g. after a crash).
  This is the crash-resume rule: a re-run recognises the number a failed try bought but could not configure,
  instead of buying another.
- **buy**: the remaining gap is filled from the available numbers that match the identity criteria, are not
  owned and cost at most ``max_monthly_cost``, cheapest first (ties by msisdn), while the total stays within
  ``monthly_budget``. Cheapest-first maximises how many numbers a budget buys.
- **Costs**: a purchase's monthly cost is the search's ``cost``. The owned listing carries no cost, so an
  owned campaign number (keep, reconfigure, adopt, surplus) costs ``known_costs[msisdn]`` when given, else
  ``assumed_cost_per_owned_number`` when given, else it is *unknown* and counted as 0 (the plan says how many
  are unknown). The budget bounds ``owned (known/assumed) + purchases``; it can only stop purchases, never
  release. To make the budget a hard cap across runs, set ``assumed_cost_per_owned_number``
  (``max_monthly_cost`` is a safe upper bound for numbers the campaign bought itself) or pass the costs of the
  previous run's purchases.
- **Shortfall**: when fewer than ``count`` numbers can be had, the plan says how many are missing and why:
  ``pool`` (too few matching numbers available at all), ``max_monthly_cost`` (enough exist but too few are
  cheap enough per number) or ``budget`` (enough are cheap enough but the total would exceed the budget).
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

from airflow_provider_nexmo_numbers.campaigns.selector import NumberSelector, field_of, is_unconfigured

__all__ = ["Plan", "PlanItem", "Shortfall", "build_plan", "offered_cost", "settings_diff"]

ACTIONS = ("keep", "reconfigure", "adopt", "buy", "surplus")
SHORTFALL_REASONS = ("pool", "max_monthly_cost", "budget")


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


#: Settings the API only takes together: an update carrying one of them must carry the other.
VOICE_PAIR = ("voice_callback_type", "voice_callback_value")


def settings_diff(number: Any, configuration: Mapping[str, str]) -> dict[str, str]:
    """The settings of `configuration` that `number` does not carry yet (unset reads as ``""``), as an update
    must send them: when either voice callback field differs, both come along (from `configuration`), since
    the API and the client refuse a voice callback value without its type and a type without its value."""
    diff: dict[str, str] = {}
    for name, wanted in configuration.items():
        have = _text(field_of(number, name))
        if name == "voice_callback_type":
            equal = have.lower() == _text(wanted).lower()
        else:
            equal = have == _text(wanted)
        if not equal:
            diff[name] = wanted
    if any(name in diff for name in VOICE_PAIR):
        diff.update({name: configuration[name] for name in VOICE_PAIR if name in configuration})
    return diff


@dataclasses.dataclass(frozen=True)
class PlanItem:
    """One number in the plan and what happens to it.

    ``changes`` are the settings to write (for ``buy``: the whole configuration, applied right after the
    purchase; for ``keep``/``surplus``: none). ``cost_basis`` says where ``monthly_cost`` comes from:
    ``search`` (the available-number search), ``known`` (``known_costs``), ``assumed``
    (``assumed_cost_per_owned_number``) or ``unknown`` (``monthly_cost`` is None and counted as 0).
    """

    action: str
    country: str
    msisdn: str
    type: str
    features: tuple[str, ...]
    monthly_cost: Decimal | None
    cost_basis: str
    changes: Mapping[str, str] = dataclasses.field(default_factory=dict)
    #: One-off set-up price the search gave (``initialPrice``), for numbers to buy; None when not given.
    initial_price: Decimal | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "country": self.country,
            "msisdn": self.msisdn,
            "type": self.type,
            "features": list(self.features),
            "monthly_cost": _money(self.monthly_cost),
            "cost_basis": self.cost_basis,
            "changes": dict(self.changes),
            "initial_price": _money(self.initial_price),
        }


@dataclasses.dataclass(frozen=True)
class Shortfall:
    """``missing`` numbers could not be planned; ``reason`` is one of pool, max_monthly_cost, budget."""

    missing: int
    reason: str
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {"missing": self.missing, "reason": self.reason, "detail": self.detail}


@dataclasses.dataclass(frozen=True)
class Plan:
    """The outcome of `build_plan()`; immutable, JSON-safe through `to_dict()`, readable through
    `render_table()`.

    ``alternates`` are affordable candidates (within ``max_monthly_cost``) that were not chosen, cheapest
    first: the apply step falls back to them when a planned number was taken by someone else in the meantime.
    They are summarised, not listed, in `to_dict()`.
    """

    selector: NumberSelector
    count: int
    configuration: Mapping[str, str]
    keep: tuple[PlanItem, ...]
    reconfigure: tuple[PlanItem, ...]
    adopt: tuple[PlanItem, ...]
    buy: tuple[PlanItem, ...]
    surplus: tuple[PlanItem, ...]
    alternates: tuple[PlanItem, ...]
    max_monthly_cost: Decimal | None
    monthly_budget: Decimal | None
    owned_cost: Decimal
    purchase_cost: Decimal
    unknown_cost_count: int
    candidates_examined: int
    candidates_eligible: int
    candidates_within_cap: int
    search_truncated: bool
    shortfall: Shortfall | None
    warnings: tuple[str, ...] = ()

    @property
    def monthly_cost(self) -> Decimal:
        """Monthly cost of every campaign number after the plan is applied (owned at known/assumed cost,
        unknown ones as 0, plus purchases at search cost)."""
        return self.owned_cost + self.purchase_cost

    @property
    def initial_cost(self) -> Decimal:
        """One-off initial prices of the numbers to buy, where the search gives them (``initialPrice``)."""
        return sum((item.initial_price for item in self.buy if item.initial_price is not None), Decimal(0))

    @property
    def first_month_cost(self) -> Decimal:
        """What the purchases cost in their first month: monthly rental plus initial prices."""
        return self.purchase_cost + self.initial_cost

    @property
    def remaining_budget(self) -> Decimal | None:
        """What the budget still allows after the plan (None without a budget; never below 0)."""
        if self.monthly_budget is None:
            return None
        return max(Decimal(0), self.monthly_budget - self.monthly_cost)

    @property
    def campaign(self) -> tuple[PlanItem, ...]:
        """The numbers the campaign will hold (surplus excluded), by msisdn."""
        return tuple(sorted((*self.keep, *self.reconfigure, *self.adopt, *self.buy), key=lambda i: i.msisdn))

    @property
    def write_count(self) -> int:
        """Write requests the plan needs: one update per reconfigure/adopt with something to set, buy + update
        per purchase."""
        per_buy = 2 if self.configuration else 1
        adopt = sum(1 for item in self.adopt if item.changes)
        return len(self.reconfigure) + adopt + per_buy * len(self.buy)

    @property
    def is_noop(self) -> bool:
        """True when applying the plan makes no write request."""
        return self.write_count == 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe summary for XCom: every number with its action, money as strings."""
        return {
            "selector": self.selector.to_dict(),
            "count": self.count,
            "configuration": dict(self.configuration),
            "keep": [item.to_dict() for item in self.keep],
            "reconfigure": [item.to_dict() for item in self.reconfigure],
            "adopt": [item.to_dict() for item in self.adopt],
            "buy": [item.to_dict() for item in self.buy],
            "surplus": [item.to_dict() for item in self.surplus],
            "alternates": len(self.alternates),
            "msisdns": [item.msisdn for item in self.campaign],
            "max_monthly_cost": _money(self.max_monthly_cost),
            "monthly_budget": _money(self.monthly_budget),
            "owned_cost": str(self.owned_cost),
            "purchase_cost": str(self.purchase_cost),
            "monthly_cost": str(self.monthly_cost),
            "initial_cost": str(self.initial_cost),
            "first_month_cost": str(self.first_month_cost),
            "unknown_cost_count": self.unknown_cost_count,
            "candidates_examined": self.candidates_examined,
            "candidates_eligible": self.candidates_eligible,
            "candidates_within_cap": self.candidates_within_cap,
            "search_truncated": self.search_truncated,
            "shortfall": None if self.shortfall is None else self.shortfall.to_dict(),
            "write_count": self.write_count,
            "warnings": list(self.warnings),
        }

    def render_table(self) -> str:
        """A fixed-width table of every number and action, then a summary; for task logs."""
        rows = [("ACTION", "MSISDN", "COUNTRY", "TYPE", "FEATURES", "EUR/MONTH", "CHANGES")]
        for action in ACTIONS:
            for item in getattr(self, action):
                cost = "?" if item.monthly_cost is None else str(item.monthly_cost)
                if item.cost_basis == "assumed":
                    cost += " (assumed)"
                changes = ", ".join(f"{k}={v!r}" for k, v in item.changes.items()) or "-"
                rows.append(
                    (
                        action,
                        item.msisdn,
                        item.country,
                        item.type or "-",
                        ",".join(item.features) or "-",
                        cost,
                        changes,
                    )
                )
        widths = [max(len(row[col]) for row in rows) for col in range(len(rows[0]) - 1)]
        lines = []
        for row in rows:
            cells = [cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True)]
            lines.append("  ".join([*cells, row[-1]]).rstrip())
        if len(rows) == 1:
            lines.append("(no numbers)")
        lines.append("")
        lines.append(f"selector: {self.selector.describe()}")
        lines.append(
            f"wanted {self.count}: keep {len(self.keep)}, reconfigure {len(self.reconfigure)}, "
            f"adopt {len(self.adopt)}, buy {len(self.buy)}; surplus {len(self.surplus)} (left untouched)"
        )
        budget = "none" if self.monthly_budget is None else f"EUR {self.monthly_budget}"
        cap = "none" if self.max_monthly_cost is None else f"EUR {self.max_monthly_cost}"
        unknown = f" + {self.unknown_cost_count} owned at unknown cost" if self.unknown_cost_count else ""
        lines.append(
            f"monthly cost: EUR {self.monthly_cost} (owned EUR {self.owned_cost}{unknown}, new EUR "
            f"{self.purchase_cost}); budget {budget}; max per number {cap}"
        )
        initial_given = sum(1 for item in self.buy if item.initial_price is not None)
        if self.buy:
            lines.append(
                f"initial (one-off) prices of new numbers: EUR {self.initial_cost} ({initial_given} of "
                f"{len(self.buy)} given by the API); first month of the purchases: "
                f"EUR {self.first_month_cost}"
            )
        lines.append(
            f"search: {self.candidates_examined} examined, {self.candidates_eligible} eligible, "
            f"{self.candidates_within_cap} within the per-number cap"
            + (" (stopped at the search limit)" if self.search_truncated else "")
        )
        lines.append(f"write requests needed: {self.write_count}")
        if self.shortfall is not None:
            short = self.shortfall
            lines.append(f"SHORTFALL: {short.missing} missing ({short.reason}): {short.detail}")
        lines.extend(f"warning: {text}" for text in self.warnings)
        return "\n".join(lines)


def _item(action: str, number: Any, cost: Decimal | None, basis: str, changes: Mapping[str, str]) -> PlanItem:
    return PlanItem(
        initial_price=offered_cost(field_of(number, "initial_price")) if action == "buy" else None,
        action=action,
        country=_text(field_of(number, "country")).upper(),
        msisdn=_text(field_of(number, "msisdn")).lstrip("+"),
        type=_text(field_of(number, "type")),
        features=tuple(field_of(number, "features") or ()),
        monthly_cost=cost,
        cost_basis=basis,
        changes=dict(changes),
    )


def _candidate_cost(number: Any) -> Decimal | None:
    return offered_cost(field_of(number, "cost"))


def offered_cost(value: Any) -> Decimal | None:
    """An offered monthly price as a Decimal, or None when it is an API anomaly (missing, not a number,
    negative, NaN, infinite): such an offer is never a bargain, it is never bought."""
    if value is None or isinstance(value, bool):
        return None
    try:
        cost = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except ArithmeticError:
        return None
    return cost if cost.is_finite() and cost >= 0 else None


def build_plan(
    *,
    owned: Iterable[Any],
    selector: NumberSelector,
    count: int,
    candidates: Iterable[Any] | Callable[[], Iterable[Any]] = (),
    configuration: Mapping[str, str] | None = None,
    max_monthly_cost: Decimal | None = None,
    monthly_budget: Decimal | None = None,
    assumed_cost_per_owned_number: Decimal | None = None,
    known_costs: Mapping[str, Decimal] | None = None,
    adopt_unconfigured: bool = True,
    claimed: Iterable[str] = (),
    candidate_limit: int | None = None,
) -> Plan:
    """Plan a campaign; pure (see the module docstring for the rules).

    :param owned: every owned number that could match (e.g. `iter_owned_numbers` with the selector's pattern);
        models or dicts with Python names. Consumed once.
    :param selector: a validated `NumberSelector`.
    :param count: how many numbers the campaign wants (>= 0).
    :param candidates: available numbers (models or dicts with ``cost``), or a zero-argument callable
        returning them. Only consumed when something must be bought, and at most ``candidate_limit`` of them,
        so a lazy, paging iterator makes no search request when the account already holds enough.
    :param configuration: settings every campaign number must carry (Python names, validated); the selector's
        marker should be part of it (the operator merges them).
    :param max_monthly_cost: most a new number may cost per month (EUR); None = no cap.
    :param monthly_budget: most the campaign's numbers may cost per month in total (EUR); None = no budget.
    :param assumed_cost_per_owned_number: monthly cost to count for an owned number whose cost is not known.
    :param known_costs: msisdn -> monthly cost of owned numbers (e.g. from a previous run's XCom).
    :param adopt_unconfigured: adopt owned numbers that match the identity criteria and carry no setting at
        all.
    :param claimed: msisdns known to be the campaign's although they may not carry the marker yet: numbers an
        earlier try of the same task bought (its purchase journal). They are adopted first, whatever their
        settings and whatever ``adopt_unconfigured`` says; claimed numbers beyond ``count`` are surplus.
    :param candidate_limit: examine at most this many available numbers (None = all).
    """
    configuration = dict(configuration or {})
    known = {str(key): Decimal(str(value)) for key, value in (known_costs or {}).items()}

    def owned_cost(number: Any) -> tuple[Decimal | None, str]:
        msisdn = _text(field_of(number, "msisdn")).lstrip("+")
        if msisdn in known:
            return known[msisdn], "known"
        if assumed_cost_per_owned_number is not None:
            return assumed_cost_per_owned_number, "assumed"
        return None, "unknown"

    configured: list[Any] = []
    misconfigured: list[Any] = []
    unconfigured: list[Any] = []
    claimed_numbers: list[Any] = []
    claimed_set = {str(m).lstrip("+") for m in claimed}
    owned_msisdns: set[str] = set()
    for number in owned:
        msisdn = _text(field_of(number, "msisdn")).lstrip("+")
        if msisdn in owned_msisdns:
            continue  # a listing that shifted between pages may repeat a number
        owned_msisdns.add(msisdn)
        if not selector.matches_identity(number):
            continue
        if selector.matches_marker(number):
            (misconfigured if settings_diff(number, configuration) else configured).append(number)
        elif msisdn in claimed_set:
            claimed_numbers.append(number)
        elif adopt_unconfigured and is_unconfigured(number):
            unconfigured.append(number)

    def by_msisdn(number: Any) -> str:
        return _text(field_of(number, "msisdn"))

    configured.sort(key=by_msisdn)
    misconfigured.sort(key=by_msisdn)
    unconfigured.sort(key=by_msisdn)
    claimed_numbers.sort(key=by_msisdn)
    ranked = configured + misconfigured
    chosen, surplus_numbers = ranked[:count], ranked[count:]

    keep: list[PlanItem] = []
    reconfigure: list[PlanItem] = []
    for number in chosen:
        cost, basis = owned_cost(number)
        diff = settings_diff(number, configuration)
        if diff:
            reconfigure.append(_item("reconfigure", number, cost, basis, diff))
        else:
            keep.append(_item("keep", number, cost, basis, {}))
    gap = max(0, count - len(chosen))
    adoptable = claimed_numbers + unconfigured
    adopt = [_item("adopt", n, *owned_cost(n), settings_diff(n, configuration)) for n in adoptable[:gap]]
    surplus_numbers += claimed_numbers[gap:]  # ours (bought by an earlier try) but not needed
    surplus = [_item("surplus", n, *owned_cost(n), {}) for n in surplus_numbers]

    owned_items = (*keep, *reconfigure, *adopt, *surplus)
    owned_total = sum((i.monthly_cost for i in owned_items if i.monthly_cost is not None), Decimal(0))
    unknown_cost_count = sum(1 for i in owned_items if i.monthly_cost is None)
    needed = max(0, count - len(keep) - len(reconfigure) - len(adopt))

    examined = 0
    truncated = False
    eligible: dict[str, tuple[Decimal, Any]] = {}
    if needed:
        source = candidates() if callable(candidates) else candidates
        # islice: never pull a page beyond the limit just to find out that there is one.
        for number in itertools.islice(source, candidate_limit):
            examined += 1
            msisdn = _text(field_of(number, "msisdn")).lstrip("+")
            cost = _candidate_cost(number)
            if cost is None or msisdn in owned_msisdns or msisdn in eligible:
                continue
            if selector.matches_identity(number):
                eligible[msisdn] = (cost, number)

        truncated = candidate_limit is not None and examined >= candidate_limit

    ranked_candidates = sorted(eligible.values(), key=lambda pair: (pair[0], by_msisdn(pair[1])))
    within_cap = [
        (cost, n) for cost, n in ranked_candidates if max_monthly_cost is None or cost <= max_monthly_cost
    ]
    remaining = None if monthly_budget is None else monthly_budget - owned_total
    buy: list[PlanItem] = []
    alternates: list[PlanItem] = []
    purchase_total = Decimal(0)
    for cost, number in within_cap:
        fits = remaining is None or purchase_total + cost <= remaining
        if len(buy) < needed and fits:
            buy.append(_item("buy", number, cost, "search", configuration))
            purchase_total += cost
        else:
            alternates.append(_item("buy", number, cost, "search", configuration))

    shortfall = None
    missing = needed - len(buy)
    if missing > 0:
        if len(eligible) < needed:
            reason = "pool"
            detail = (
                f"only {len(eligible)} available number(s) match the identity criteria "
                f"({examined} examined{', search limit reached' if truncated else ''}), {needed} needed"
            )
        elif len(within_cap) < needed:
            reason = "max_monthly_cost"
            detail = (
                f"{len(eligible)} match but only {len(within_cap)} cost at most EUR {max_monthly_cost} "
                f"per month, {needed} needed"
            )
        else:
            reason = "budget"
            left = max(Decimal(0), remaining or Decimal(0))
            detail = (
                f"the monthly budget EUR {monthly_budget} leaves EUR {left} after owned numbers "
                f"(EUR {owned_total}); it buys {len(buy)} of the {needed} needed"
            )
        shortfall = Shortfall(missing=missing, reason=reason, detail=detail)

    warnings: list[str] = []
    if not selector.marker and (reconfigure or adopt):
        warnings.append(
            "the selector has no campaign marker: every owned number matching the identity criteria "
            "counts as the campaign's and is reconfigured to the campaign's settings"
        )
    if unknown_cost_count:
        warnings.append(
            f"{unknown_cost_count} owned number(s) have an unknown monthly cost (counted as 0); set "
            "assumed_cost_per_owned_number or known_costs to budget them"
        )
    if monthly_budget is not None and owned_total > monthly_budget:
        warnings.append(
            f"owned campaign numbers already cost EUR {owned_total}, "
            f"above the monthly budget EUR {monthly_budget}"
        )
    if truncated:
        warnings.append(
            f"the search stopped at its limit of {candidate_limit} candidates; cheaper numbers may exist"
        )

    return Plan(
        selector=selector,
        count=count,
        configuration=configuration,
        keep=tuple(keep),
        reconfigure=tuple(reconfigure),
        adopt=tuple(adopt),
        buy=tuple(buy),
        surplus=tuple(surplus),
        alternates=tuple(alternates),
        max_monthly_cost=max_monthly_cost,
        monthly_budget=monthly_budget,
        owned_cost=owned_total,
        purchase_cost=purchase_total,
        unknown_cost_count=unknown_cost_count,
        candidates_examined=examined,
        candidates_eligible=len(eligible),
        candidates_within_cap=len(within_cap),
        search_truncated=truncated,
        shortfall=shortfall,
        warnings=tuple(warnings),
    )
