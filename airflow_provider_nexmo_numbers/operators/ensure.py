"""Provisioning campaigns: declare the numbers you want, get a plan, then apply it.

`NexmoEnsureNumbersOperator` reads the account (owned numbers, and available numbers only when something must
be bought), builds a `Plan` (pure, see campaigns/plan.py), logs it as a table, and unless ``dry_run`` applies
it: reconfigure and adopt first (free), then buy cheapest-first at a freshly re-read price, configuring each
number right after its purchase, then verify by reading the account again. Purchases stop early when the API
refuses them outright (address-required country, repeated 420s; see campaigns/purchasing.py). Re-running on an
account that already matches makes read requests only.

Money safety across workers comes from the ledger (docs/ledger.md):

- **Campaign lease**: a run holds the campaign's lease (the campaign is its selector) while it plans and
  applies; a second run of the same campaign waits up to ``lease_wait`` seconds, then fails naming the holder.
- **Claims**: every purchase is claimed in the ledger first and recorded with its cost and campaign after
  (campaigns/purchasing.py); numbers another owner claims or another campaign holds are neither bought nor
  adopted.
- **Crash-resume on every Airflow version**: numbers the ledger records for this campaign are the campaign's
  (adopted first, configured, at their recorded cost), including a purchase whose try was killed between the
  buy and its record (its claim says "buying" and the account owns it). The purchase journal in Airflow's
  ``task_state_store`` (>= 3.3) is only a cross-check, logged when it names a number the ledger does not
  record for the campaign: written before the claim, it cannot tell "my try bought it" from "someone else
  did". ``adopt_unconfigured`` (owned numbers with no setting, not held by anyone in the ledger) is the
  second line.
- **Budgets** count the ledger's recorded cost for numbers it knows; ``known_costs`` and
  ``assumed_cost_per_owned_number`` only for numbers bought outside it. Initial (one-off) prices from the
  search are shown in the plan and recorded.

Either way the client's `buy_number` is idempotent within a try (it looks before retrying an ambiguous
failure), so no msisdn is ever bought twice.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException

# The selector is parsed when the operator is constructed (at DAG parse time); the planner and the purchasing
# are only needed when the task runs, so they are imported there: a DAG file does not pay for them.
from airflow_provider_nexmo_numbers.campaigns.selector import NumberSelector
from airflow_provider_nexmo_numbers.operators.base import (
    NexmoBaseOperator,
    open_task_ledger,
    parse_bool,
    parse_int,
    parse_money,
    validation,
    validation_error,
)

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

    from airflow_provider_nexmo_numbers.campaigns.plan import Plan, PlanItem
    from airflow_provider_nexmo_numbers.hooks.nexmo_numbers import NexmoNumbersHook
    from airflow_provider_nexmo_numbers.ledger.core import Ledger

JOURNAL_KEY = "nexmo_numbers_ensure_purchases"
ON_SHORTFALL = ("fail", "warn")
DEFAULT_SEARCH_LIMIT = 1000
#: Most numbers one campaign may want: bounded before the wire (a typo such as 10**12 fails at once).
MAX_COUNT = 1000
#: How long a second run of the same campaign waits for the first to finish, and how long a lease lasts if
#: its holder dies without releasing it.
DEFAULT_LEASE_WAIT = 300
DEFAULT_LEASE_SECONDS = 3600


class PurchaseJournal:
    """The numbers this task instance bought (or was about to buy), in Airflow's ``task_state_store``.

    Scoped by Airflow to (dag_id, run_id, task_id, map_index) and kept across tries; a cross-check of the
    ledger, never a claim (see the module docstring). Without a store (Airflow < 3.3, or ``execute({})`` in a
    script) it is an in-memory no-op.
    """

    def __init__(self, context: Mapping[str, Any] | None) -> None:
        self._store = (context or {}).get("task_state_store")
        raw = self._store.get(JOURNAL_KEY) if self._store is not None else None
        self.entries: dict[str, dict[str, Any]] = dict(raw) if isinstance(raw, dict) else {}

    @property
    def available(self) -> bool:
        return self._store is not None

    def _save(self) -> None:
        if self._store is not None:
            self._store.set(JOURNAL_KEY, self.entries)

    def record(self, item: PlanItem, *, configured: bool) -> None:
        cost = None if item.monthly_cost is None else str(item.monthly_cost)
        self.entries[item.msisdn] = {"country": item.country, "cost": cost, "configured": configured}
        self._save()

    def forget(self, msisdn: str) -> None:
        if self.entries.pop(msisdn, None) is not None:
            self._save()


class NexmoEnsureNumbersOperator(NexmoBaseOperator):
    """Make sure ``count`` numbers matching ``selector`` exist and carry ``configuration``, within cost
    limits.

    :param selector: `NumberSelector` or mapping (templated). Identity criteria (``country`` required,
        ``type``, ``features``, ``pattern``, ``search_pattern``) say what kind of number and are also the
        search criteria for new ones; the marker (e.g. ``mo_http_url``) tells the campaign's numbers from
        others of the same kind. See docs/campaigns.md.
    :param count: how many numbers the campaign wants, >= 0 (templated).
    :param configuration: settings every campaign number must carry (``mo_http_url``, ``mo_smpp_sys_type``,
        ``voice_callback_type`` + ``voice_callback_value``, ``voice_status_callback``, ``app_id``); merged
        with the selector's marker, which it may repeat but not contradict (templated).
    :param max_monthly_cost: most a new number may cost per month, EUR (templated).
    :param monthly_budget: most the campaign's numbers may cost per month in total, EUR (templated). Counts
        new numbers at their search cost and owned ones at ``known_costs`` /
        ``assumed_cost_per_owned_number``.
    :param assumed_cost_per_owned_number: monthly cost counted for an owned number whose cost is unknown; None
        = unknown numbers count as 0 (the plan reports how many) (templated).
    :param known_costs: msisdn -> monthly cost of owned numbers, e.g. the ``costs`` of a previous run's XCom
        (templated).
    :param adopt_unconfigured: adopt owned numbers matching the identity criteria that carry no setting at all
        before buying (templated).
    :param on_shortfall: ``fail`` (default): a shortfall found while planning fails the task before any write
        request, without retries; ``warn``: apply what fits and report the shortfall (templated).
    :param dry_run: plan only, write nothing (templated).
    :param search_limit: examine at most this many available numbers when choosing what to buy (templated).
    :param campaign: the campaign's name in the ledger (templated); default: the selector, described. Two
        runs with the same campaign never apply at once.
    :param lease_wait: seconds a run waits for another run of the same campaign to finish (templated).
    :param lease_seconds: how long the campaign lease lasts if its holder dies (templated).
    :param ledger_conn_id: the ledger's Airflow connection (templated); see docs/ledger.md.
    :param saved_plan: apply exactly this plan (an earlier dry run's XCom or its ``plan``, e.g. after an
        approval), or refuse before any write when it no longer holds (campaigns/saved_plan.py) (templated).
    :param nexmo_conn_id: connection id (templated).

    XCom: ``{"dry_run", "plan": Plan.to_dict(), "applied": {"reconfigured", "adopted", "bought", "skipped",
    "stopped"} or None, "msisdns", "costs", "monthly_cost", "shortfall", "verified", "write_requests"}``.
    """

    template_fields: Sequence[str] = (
        "nexmo_conn_id",
        "selector",
        "count",
        "configuration",
        "max_monthly_cost",
        "monthly_budget",
        "assumed_cost_per_owned_number",
        "known_costs",
        "adopt_unconfigured",
        "on_shortfall",
        "dry_run",
        "search_limit",
        "campaign",
        "lease_wait",
        "lease_seconds",
        "ledger_conn_id",
        "saved_plan",
    )
    template_fields_renderers = {
        "selector": "json",
        "configuration": "json",
        "known_costs": "json",
        "saved_plan": "json",
    }

    def __init__(
        self,
        *,
        selector: NumberSelector | Mapping[str, Any],
        count: int | str,
        configuration: Mapping[str, Any] | None = None,
        max_monthly_cost: Decimal | str | int | float | None = None,
        monthly_budget: Decimal | str | int | float | None = None,
        assumed_cost_per_owned_number: Decimal | str | int | float | None = None,
        known_costs: Mapping[str, Any] | None = None,
        adopt_unconfigured: bool | str = True,
        on_shortfall: str = "fail",
        dry_run: bool | str = False,
        search_limit: int | str = DEFAULT_SEARCH_LIMIT,
        campaign: str | None = None,
        lease_wait: int | str = DEFAULT_LEASE_WAIT,
        lease_seconds: int | str = DEFAULT_LEASE_SECONDS,
        ledger_conn_id: str | None = None,
        saved_plan: Mapping[str, Any] | str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.saved_plan = saved_plan
        self.campaign = campaign
        self.lease_wait = lease_wait
        self.lease_seconds = lease_seconds
        self.ledger_conn_id = ledger_conn_id
        # Kept as plain data so it can be templated and serialized with the DAG.
        self.selector = selector.to_dict() if isinstance(selector, NumberSelector) else selector
        self.count = count
        self.configuration = configuration
        self.max_monthly_cost = max_monthly_cost
        self.monthly_budget = monthly_budget
        self.assumed_cost_per_owned_number = assumed_cost_per_owned_number
        self.known_costs = known_costs
        self.adopt_unconfigured = adopt_unconfigured
        self.on_shortfall = on_shortfall
        self.dry_run = dry_run
        self.search_limit = search_limit
        self.validate_at_construction()

    # -- validation ------------------------------------------------------------------------------------------

    @staticmethod
    def _parse_selector(value: Any) -> NumberSelector:
        selector = NumberSelector.parse(value)
        if selector.country is None:
            raise validation_error(
                "selector.country", "is required: new numbers are searched for and bought per country"
            )
        return selector

    @staticmethod
    def _parse_configuration(value: Any, selector: NumberSelector | None) -> dict[str, str]:
        """The marker merged with the configuration; validated like an update."""
        from airflow_provider_nexmo_numbers.client.errors import NexmoValidationError

        if value is not None and not isinstance(value, Mapping):
            raise validation_error("configuration", "must be a mapping of number settings")
        given = {k: v for k, v in (value or {}).items() if v is not None}
        marker = selector.marker if selector is not None else {}
        for name, wanted in marker.items():
            if name in given and str(given[name]).strip().lower() != str(wanted).strip().lower():
                raise validation_error(
                    f"configuration.{name}",
                    f"must equal the selector's marker {wanted!r} (the marker is how the campaign recognises "
                    "its numbers; a number configured otherwise would not be found again)",
                )
        try:
            return validation().validate_update_changes({**marker, **given})
        except NexmoValidationError as err:
            field = f"configuration.{err.field}" if err.field else "configuration"
            raise validation_error(field, err.rule or "invalid setting", f"invalid {field}: {err}") from err

    @staticmethod
    def _parse_known_costs(value: Any) -> dict[str, Decimal]:
        if not isinstance(value, Mapping):
            raise validation_error("known_costs", "must be a mapping of msisdn -> monthly cost in EUR")
        return {
            validation().validate_msisdn(key, field="known_costs"): parse_money(f"known_costs[{key}]", cost)
            for key, cost in value.items()
        }

    @staticmethod
    def _parse_on_shortfall(value: Any) -> str:
        if not isinstance(value, str) or value.strip().lower() not in ON_SHORTFALL:
            raise validation_error("on_shortfall", f"must be one of {', '.join(ON_SHORTFALL)}, got {value!r}")
        return value.strip().lower()

    def validate_inputs(self) -> None:
        selector = self.check_input("selector", self._parse_selector, optional=False)
        self.check_input(
            "count", lambda v: parse_int("count", v, minimum=0, maximum=MAX_COUNT), optional=False
        )
        if not self.any_late("selector", "configuration"):
            self._parse_configuration(self.configuration, selector)
        self.check_input("max_monthly_cost", lambda v: parse_money("max_monthly_cost", v))
        self.check_input("monthly_budget", lambda v: parse_money("monthly_budget", v))
        self.check_input(
            "assumed_cost_per_owned_number", lambda v: parse_money("assumed_cost_per_owned_number", v)
        )
        self.check_input("known_costs", self._parse_known_costs)
        self.check_input("adopt_unconfigured", lambda v: parse_bool("adopt_unconfigured", v), optional=False)
        self.check_input("on_shortfall", self._parse_on_shortfall, optional=False)
        self.check_input("dry_run", lambda v: parse_bool("dry_run", v), optional=False)
        self.check_input("search_limit", lambda v: parse_int("search_limit", v, minimum=1), optional=False)
        self.check_input("lease_wait", lambda v: parse_int("lease_wait", v, minimum=0), optional=False)
        self.check_input("lease_seconds", lambda v: parse_int("lease_seconds", v, minimum=1), optional=False)
        self.check_input("campaign", lambda v: _parse_campaign(v))
        self.check_input("saved_plan", _parse_saved_plan)

    # -- execution -------------------------------------------------------------------------------------------

    def execute(self, context: Context) -> dict[str, Any]:
        self.validate_before_requests()
        selector = self._parse_selector(self.selector)
        count = parse_int("count", self.count, minimum=0, maximum=MAX_COUNT)
        configuration = self._parse_configuration(self.configuration, selector)
        max_cost = (
            None if self.max_monthly_cost is None else parse_money("max_monthly_cost", self.max_monthly_cost)
        )
        budget = None if self.monthly_budget is None else parse_money("monthly_budget", self.monthly_budget)
        assumed = (
            None
            if self.assumed_cost_per_owned_number is None
            else parse_money("assumed_cost_per_owned_number", self.assumed_cost_per_owned_number)
        )
        known = {} if self.known_costs is None else self._parse_known_costs(self.known_costs)
        adopt = parse_bool("adopt_unconfigured", self.adopt_unconfigured)
        on_shortfall = self._parse_on_shortfall(self.on_shortfall)
        dry_run = parse_bool("dry_run", self.dry_run)
        search_limit = parse_int("search_limit", self.search_limit, minimum=1)
        name = _parse_campaign(self.campaign) if self.campaign is not None else selector.describe()
        from airflow_provider_nexmo_numbers.ledger.airflow import owner_of

        owner = owner_of(context, self.task_id)
        args = {
            "selector": selector,
            "count": count,
            "configuration": configuration,
            "max_cost": max_cost,
            "budget": budget,
            "assumed": assumed,
            "known": known,
            "adopt": adopt,
            "on_shortfall": on_shortfall,
            "dry_run": dry_run,
            "search_limit": search_limit,
        }
        if dry_run:
            # A plan reads the ledger's costs and holdings when it can (so that a saved plan compares with
            # its apply), but a dry run never fails or waits because of the ledger, and writes nothing to it.
            ledger = self._ledger_if_reachable()
            try:
                return self._run(context, args, ledger, owner, name)
            finally:
                if ledger is not None:
                    ledger.close()
        ledger = open_task_ledger(self, self.ledger_conn_id)  # before any request
        from airflow_provider_nexmo_numbers.ledger.core import LeaseHeldError

        try:
            try:
                ledger.acquire_lease(
                    name,
                    owner,
                    lease_seconds=parse_int("lease_seconds", self.lease_seconds, minimum=1),
                    wait_seconds=parse_int("lease_wait", self.lease_wait, minimum=0),
                )
            except LeaseHeldError as err:
                raise AirflowException(
                    f"{type(self).__name__} {self.task_id}: {err}; nothing was changed"
                ) from err
            try:
                return self._run(context, args, ledger, owner, name)
            finally:
                ledger.release_lease(name, owner)
        finally:
            ledger.close()

    def _ledger_if_reachable(self) -> Ledger | None:
        from airflow_provider_nexmo_numbers.ledger.airflow import open_ledger
        from airflow_provider_nexmo_numbers.ledger.core import LedgerError

        try:
            return open_ledger(self.ledger_conn_id)
        except LedgerError as err:
            self.log.warning("Planning without the ledger (%s): owned numbers' costs may be unknown.", err)
            return None

    def _run(
        self, context: Context, args: dict[str, Any], ledger: Ledger | None, owner: str, name: str
    ) -> dict[str, Any]:
        """Plan and (unless a dry run) apply, holding the campaign lease when ``ledger`` is given."""
        from airflow_provider_nexmo_numbers.campaigns.plan import build_plan
        from airflow_provider_nexmo_numbers.campaigns.purchasing import fresh_offer

        selector, count, configuration = args["selector"], args["count"], args["configuration"]
        max_cost, budget, assumed, known = args["max_cost"], args["budget"], args["assumed"], args["known"]
        adopt, on_shortfall, dry_run = args["adopt"], args["on_shortfall"], args["dry_run"]
        search_limit = args["search_limit"]
        saved = None if self.saved_plan is None else _parse_saved_plan(self.saved_plan)
        hook = self.hook
        journal = PurchaseJournal(context)
        country = selector.country
        assert country is not None  # _parse_selector guarantees it

        # The account first, the ledger after: a purchase recorded meanwhile is then seen in the ledger.
        owned = list(hook.iter_owned_numbers(**selector.listing_kwargs(), page_size=100, consistent=True))
        view = _LedgerView.read(ledger, owner, name, {n.msisdn for n in owned}, self.log, resolve=not dry_run)
        unconfirmed = sorted(set(journal.entries) - set(view.mine))
        if unconfirmed:
            self.log.warning(
                "The purchase journal of an earlier try names %s, which the ledger does not record for this "
                "campaign; going by the ledger (not claimed).",
                ", ".join(unconfirmed),
            )
        if view.held:
            self.log.info(
                "Held elsewhere in the ledger (neither adopted nor bought): %s",
                ", ".join(f"{m} ({who})" for m, who in sorted(view.held.items())),
            )

        def ours_or_free(number: Any) -> bool:
            return number.msisdn not in view.held or (
                bool(selector.marker) and selector.matches_marker(number)
            )

        def candidates() -> Iterator[Any]:
            if saved is not None:
                # Only the saved plan's purchases, each at its price of now.
                offers = (
                    fresh_offer(hook, i["country"], i["msisdn"], i["type"] or None) for i in saved["buy"]
                )
                return (offer for offer in offers if offer is not None and offer.msisdn not in view.held)
            found = hook.iter_available_numbers(
                country, **selector.search_kwargs(), page_size=100, limit=search_limit
            )
            return (number for number in found if number.msisdn not in view.held)

        plan = build_plan(
            owned=[n for n in owned if ours_or_free(n)],
            selector=selector,
            count=count,
            candidates=candidates,
            configuration=configuration,
            max_monthly_cost=max_cost,
            monthly_budget=budget,
            assumed_cost_per_owned_number=assumed,
            # The ledger's recorded costs win: known_costs and the assumption are for numbers bought outside.
            known_costs={**known, **view.costs},
            adopt_unconfigured=adopt,
            # The ledger alone says which numbers are the campaign's: the journal is written before the
            # claim, so an entry of a try that died before buying may name a number someone else bought.
            claimed=view.mine,
            candidate_limit=search_limit,
        )
        self.log.info("Campaign plan%s:\n%s", " (dry run)" if dry_run else "", plan.render_table())
        if saved is not None:
            from airflow_provider_nexmo_numbers.campaigns.saved_plan import digest, plan_differences

            differences = plan_differences(saved, plan.to_dict())
            if differences:
                raise AirflowFailException(
                    f"{type(self).__name__} {self.task_id}: the saved plan {digest(saved)} no longer holds, "
                    "nothing was bought or changed:\n  - " + "\n  - ".join(differences)
                )
            self.log.info("The saved plan %s still holds: applying exactly it.", digest(saved))

        if plan.shortfall is not None:
            message = (
                f"{type(self).__name__} {self.task_id}: shortfall of {plan.shortfall.missing} number(s) "
                f"({plan.shortfall.reason}): {plan.shortfall.detail}"
            )
            if on_shortfall == "fail":
                raise AirflowFailException(message + "; nothing was bought or changed (on_shortfall='fail')")
            self.log.warning("%s; applying what fits (on_shortfall='warn')", message)

        from airflow_provider_nexmo_numbers.campaigns.saved_plan import digest

        result: dict[str, Any] = {
            "dry_run": dry_run,
            "plan": plan.to_dict(),
            "plan_digest": digest(plan.to_dict()),
            "applied": None,
            "msisdns": [item.msisdn for item in plan.campaign],
            "costs": _costs(plan.campaign),
            "monthly_cost": str(plan.monthly_cost),
            "shortfall": None if plan.shortfall is None else plan.shortfall.to_dict(),
            "verified": False,
            "write_requests": 0,
        }
        if dry_run:
            self.log.info("Dry run: %d write request(s) would be made; none were.", plan.write_count)
            return result
        if plan.is_noop:
            self.log.info("The account already matches the campaign: no write request made.")
            result["verified"] = True  # the plan was built from a fresh read of the account
            return result

        self._check_balance(hook, plan)
        applied, campaign, writes = self._apply(
            hook, plan, configuration, budget, journal, ledger, owner, name
        )
        result["applied"] = applied
        result["write_requests"] = writes
        result["msisdns"] = sorted(item.msisdn for item in campaign)
        result["costs"] = _costs(campaign)
        result["monthly_cost"] = str(
            sum((i.monthly_cost for i in campaign if i.monthly_cost is not None), Decimal(0))
            + sum((i.monthly_cost for i in plan.surplus if i.monthly_cost is not None), Decimal(0))
        )
        self._verify(hook, selector, configuration, campaign)
        result["verified"] = True
        missing = count - len(campaign)
        planned_missing = plan.shortfall.missing if plan.shortfall else 0
        if missing > planned_missing:
            stopped = applied["stopped"]
            if stopped:
                # The API refused purchases outright (address-required country, no credit): say so, with its
                # label, and do not pretend numbers were taken.
                result["shortfall"] = {"missing": missing, "reason": "refused", "detail": stopped}
            else:
                # Planned numbers were taken by someone else or got dearer, and no alternate fitted.
                result["shortfall"] = {
                    "missing": missing,
                    "reason": "pool",
                    "detail": f"{missing - planned_missing} planned number(s) were no longer available "
                    "at the planned price when bought and no alternate within the cost limits was left",
                }
            detail = result["shortfall"]["detail"]
            if on_shortfall == "fail":
                error = AirflowFailException if stopped else AirflowException
                raise error(
                    f"{type(self).__name__} {self.task_id}: {missing} number(s) short after applying: "
                    f"{detail}; what fitted was applied"
                )
            self.log.warning("%d number(s) short after applying: %s (on_shortfall='warn')", missing, detail)
        return result

    def _apply(
        self,
        hook: NexmoNumbersHook,
        plan: Plan,
        configuration: Mapping[str, str],
        budget: Decimal | None,
        journal: PurchaseJournal,
        ledger: Ledger,
        owner: str,
        name: str,
    ) -> tuple[dict[str, Any], list[PlanItem], int]:
        """Reconfigure and adopt, then buy + configure one number at a time, each at its fresh price, within
        the limits (see purchasing.buy_planned)."""
        from airflow_provider_nexmo_numbers.campaigns.purchasing import buy_planned, fresh_offer
        from airflow_provider_nexmo_numbers.client.errors import NexmoMethodFailedError

        writes = 0
        applied: dict[str, Any] = {
            "reconfigured": [],
            "adopted": [],
            "bought": [],
            "skipped": [],
            "stopped": None,
        }
        from airflow_provider_nexmo_numbers.campaigns.purchasing import Taken, claimed_purchase

        for item in (*plan.keep, *plan.reconfigure, *plan.adopt):
            # The ledger learns which numbers the campaign holds (also those bought outside it); a number
            # another owner or campaign took meanwhile is not the campaign's.
            if not ledger.assign(item.msisdn, item.country, owner=owner, campaign=name):
                raise AirflowException(
                    f"{item.msisdn} was taken by another owner or campaign in the ledger while planning; "
                    "nothing more was changed, a retry plans again"
                )
        campaign: list[PlanItem] = list(plan.keep)
        for item in (*plan.reconfigure, *plan.adopt):
            if item.changes:  # an adopted number may already carry everything: nothing to send
                self.log.info("%s %s: setting %s", item.action, item.msisdn, dict(item.changes))
                after = hook.update_number(item.country, item.msisdn, **item.changes)
                writes += 1
                self._check_settings(after, configuration, item.msisdn)
            applied["reconfigured" if item.action == "reconfigure" else "adopted"].append(item.msisdn)
            campaign.append(item)
            if item.msisdn in journal.entries:
                journal.record(item, configured=True)

        # Every queued purchase is reserved up front, so a substitute for a number that could not be bought
        # only takes the budget that number freed: the total never exceeds the budget, whatever the order.
        def current_price(item: PlanItem) -> Decimal | None:
            offer = fresh_offer(hook, item.country, item.msisdn, item.type or None)
            return None if offer is None else offer.cost

        def buy(item: PlanItem) -> Any:
            nonlocal writes
            journal.record(item, configured=False)  # before the purchase: a crash after it is recognised
            try:
                bought = claimed_purchase(
                    ledger,
                    hook,
                    country=item.country,
                    msisdn=item.msisdn,
                    owner=owner,
                    campaign=name,
                    monthly_cost=item.monthly_cost,
                    initial_price=item.initial_price,
                )
            except (NexmoMethodFailedError, Taken):
                journal.forget(item.msisdn)
                raise
            writes += 1
            return bought

        def configure(item: PlanItem) -> None:
            nonlocal writes
            if configuration:
                hook.update_number(item.country, item.msisdn, **configuration)
                writes += 1
            journal.record(item, configured=True)

        outcome = buy_planned(
            plan.buy,
            plan.alternates,
            reserved=plan.owned_cost + plan.purchase_cost,
            budget=budget,
            max_monthly_cost=plan.max_monthly_cost,
            current_price=current_price,
            buy=buy,
            configure=configure,
            logger=self.log,
        )
        applied["skipped"] = outcome.skipped
        applied["stopped"] = outcome.stopped
        for item, bought in outcome.bought:
            applied["bought"].append(
                {
                    "country": item.country,
                    "msisdn": item.msisdn,
                    "monthly_cost": None if item.monthly_cost is None else str(item.monthly_cost),
                    "already_owned": bought.already_owned,
                }
            )
            campaign.append(item)
        campaign.sort(key=lambda i: i.msisdn)
        return applied, campaign, writes

    def _check_balance(self, hook: NexmoNumbersHook, plan: Plan) -> None:
        """Vonage flavour: refuse, before buying, a plan whose first month (monthly cost plus initial prices
        of the new numbers) exceeds the account balance. Flavours without a balance (KPN) return None."""
        if not plan.buy:
            return
        get_balance = getattr(hook, "get_balance", None) or getattr(hook.get_conn(), "get_balance", None)
        if get_balance is None:
            return
        balance = get_balance()
        if balance is not None and plan.first_month_cost > Decimal(str(balance)):
            raise AirflowFailException(
                f"{type(self).__name__} {self.task_id}: the plan's first month costs EUR "
                f"{plan.first_month_cost} (EUR {plan.purchase_cost} monthly + EUR {plan.initial_cost} "
                f"initial prices of {len(plan.buy)} new number(s)), above the account balance EUR {balance}; "
                "nothing was bought"
            )

    @staticmethod
    def _check_settings(number: Any, configuration: Mapping[str, str], msisdn: str) -> None:
        from airflow_provider_nexmo_numbers.campaigns.plan import settings_diff

        diff = settings_diff(number, configuration)
        if diff:
            raise AirflowException(f"number {msisdn} does not carry {diff} after the update")

    def _verify(
        self,
        hook: NexmoNumbersHook,
        selector: NumberSelector,
        configuration: Mapping[str, str],
        campaign: list[PlanItem],
    ) -> None:
        """Read the account again: every campaign number is owned, matches the selector and the
        configuration."""
        from airflow_provider_nexmo_numbers.campaigns.plan import settings_diff

        wanted = {item.msisdn for item in campaign}
        found: set[str] = set()
        problems: list[str] = []
        for number in hook.iter_owned_numbers(**selector.listing_kwargs(), page_size=100, consistent=True):
            if number.msisdn not in wanted:
                continue
            found.add(number.msisdn)
            if not selector.matches(number):
                problems.append(f"{number.msisdn} does not match the selector")
            elif settings_diff(number, configuration):
                problems.append(f"{number.msisdn} differs in {sorted(settings_diff(number, configuration))}")
        problems.extend(f"{msisdn} is not owned" for msisdn in sorted(wanted - found))
        if problems:
            raise AirflowException("verification after applying the plan failed: " + "; ".join(problems))
        self.log.info("Verified: %d campaign number(s) owned and configured.", len(wanted))


def _costs(items: Sequence[PlanItem]) -> dict[str, str]:
    """Costs worth feeding back as ``known_costs``: from a search or already known, never assumed."""
    return {
        item.msisdn: str(item.monthly_cost)
        for item in items
        if item.monthly_cost is not None and item.cost_basis in ("search", "known")
    }


def _parse_saved_plan(value: Any) -> dict[str, Any]:
    from airflow_provider_nexmo_numbers.campaigns.saved_plan import saved_plan_of

    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise validation_error(
                "saved_plan", "must be a saved plan (JSON), got text that is not JSON"
            ) from None
    try:
        return saved_plan_of(value)
    except ValueError as err:
        raise validation_error("saved_plan", str(err)) from None


def _parse_campaign(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 200:
        raise validation_error(
            "campaign", f"must be a non-empty name of at most 200 characters, got {value!r}"
        )
    return value.strip()


class _LedgerView:
    """What the ledger says about a campaign at planning time: ``held`` (msisdn -> by whom: claimed by
    another owner or held by another campaign), ``mine`` (numbers it records for this campaign, owned by the
    account) and ``costs`` (their recorded monthly costs)."""

    def __init__(self) -> None:
        self.held: dict[str, str] = {}
        self.mine: list[str] = []
        self.costs: dict[str, Decimal] = {}

    @classmethod
    def read(
        cls, ledger: Ledger | None, owner: str, name: str, owned: set[str], log: Any, *, resolve: bool
    ) -> _LedgerView:
        """``resolve``: settle dead runs' claims (only while holding the campaign lease, never in a plan)."""
        view = cls()
        if ledger is None:
            return view
        if resolve:
            view._resolve(ledger, owner, name, owned, log)
        view.held = ledger.held_elsewhere(owner=owner, campaign=name)
        for row in ledger.numbers(campaign=name):
            if row["msisdn"] in owned:
                view.mine.append(row["msisdn"])
                if row["monthly_cost"] is not None:
                    view.costs[row["msisdn"]] = Decimal(row["monthly_cost"])
        return view

    @staticmethod
    def _resolve(ledger: Ledger, owner: str, name: str, owned: set[str], log: Any) -> None:
        # A purchase of this campaign whose try was killed between the buy and its record: the lease says
        # that try is gone, the account says whether it bought.
        # Another owner's claim for this campaign is a dead run's (this run holds the campaign lease).
        for claim in ledger.claims(campaign=name):
            if claim["owner"] != owner:
                if claim["state"] == "buying" and claim["msisdn"] in owned:
                    ledger.record_purchase(
                        msisdn=claim["msisdn"],
                        country=claim["country"],
                        owner=claim["owner"],
                        campaign=name,
                        monthly_cost=claim["monthly_cost"],
                        initial_price=claim["initial_price"],
                    )
                    log.info(
                        "%s: bought for this campaign by %s, recorded now", claim["msisdn"], claim["owner"]
                    )
                else:
                    ledger.drop_claim(claim["msisdn"], claim["owner"])
        from airflow_provider_nexmo_numbers.campaigns.purchasing import resume_purchase

        resume_purchase(ledger, _OwnedSet(owned), owner=owner)


class _OwnedSet:
    """`find_owned_number` over a listing already read (no extra request per number)."""

    def __init__(self, owned: set[str]) -> None:
        self._owned = owned

    def find_owned_number(self, msisdn: str) -> Any:
        return msisdn if msisdn in self._owned else None
