"""Provisioning campaigns: declare the numbers you want, get a plan, then apply it.

`NexmoEnsureNumbersOperator` reads the account (owned numbers, and available numbers only when something must
be bought), builds a `Plan` (pure, see campaigns/plan.py), logs it as a table, and unless ``dry_run`` applies
it: reconfigure and adopt first (free), then buy cheapest-first at a freshly re-read price, configuring each
number right after its purchase, then verify by reading the account again. Purchases stop early when the API
refuses them outright (address-required country, repeated 420s; see campaigns/purchasing.py). Re-running on an
account that already matches makes read requests only.

Crash-resume (a try stopped after a purchase but before that number was configured) has two layers:

1. **Purchase journal** (Airflow >= 3.3): before each buy the operator records the msisdn, country and cost in
   the task instance's ``task_state_store``, which survives retries of the same task instance (XCom does not:
   Airflow clears a task's XComs when a new try starts). A later try passes the journal to the planner as
   ``claimed``: those numbers are adopted and configured first, even with ``adopt_unconfigured=False``, and
   their recorded costs count towards the budget.
2. **Adopting unconfigured numbers** (``adopt_unconfigured=True``, the default): an owned number that matches
   the identity criteria and carries no setting at all is what a purchase looks like before configuration, so
   it fills the gap before anything is bought. This also covers a new DAG run after a run that failed for
   good, and ``execute()`` outside Airflow (no task state store there).

Either way the client's `buy_number` is idempotent within a try (it looks before retrying an ambiguous
failure), so no msisdn is ever bought twice.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException

from airflow_provider_nexmo_numbers.campaigns.plan import Plan, PlanItem, build_plan, settings_diff
from airflow_provider_nexmo_numbers.campaigns.purchasing import buy_planned, fresh_offer
from airflow_provider_nexmo_numbers.campaigns.selector import NumberSelector
from airflow_provider_nexmo_numbers.operators.base import (
    NexmoBaseOperator,
    parse_bool,
    parse_int,
    parse_money,
    validation,
    validation_error,
)

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

    from airflow_provider_nexmo_numbers.hooks.nexmo_numbers import NexmoNumbersHook

JOURNAL_KEY = "nexmo_numbers_ensure_purchases"
ON_SHORTFALL = ("fail", "warn")
DEFAULT_SEARCH_LIMIT = 1000


class PurchaseJournal:
    """The numbers this task instance bought (or was about to buy), in Airflow's ``task_state_store``.

    Scoped by Airflow to (dag_id, run_id, task_id, map_index) and kept across tries. Without a store (Airflow
    < 3.3, or ``execute({})`` in a script) it is an in-memory no-op and only ``adopt_unconfigured`` protects a
    resumed run.
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

    def costs(self) -> dict[str, Decimal]:
        return {m: Decimal(e["cost"]) for m, e in self.entries.items() if e.get("cost") is not None}


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
    )
    template_fields_renderers = {"selector": "json", "configuration": "json", "known_costs": "json"}

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
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
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

    def _parse_selector(self, value: Any) -> NumberSelector:
        selector = NumberSelector.parse(value)
        if selector.country is None:
            raise validation_error(
                "selector.country", "is required: new numbers are searched for and bought per country"
            )
        return selector

    def _parse_configuration(self, value: Any, selector: NumberSelector | None) -> dict[str, str]:
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
        self.check_input("count", lambda v: parse_int("count", v, minimum=0), optional=False)
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

    # -- execution -------------------------------------------------------------------------------------------

    def execute(self, context: Context) -> dict[str, Any]:
        self.validate_before_requests()
        selector = self._parse_selector(self.selector)
        count = parse_int("count", self.count, minimum=0)
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

        hook = self.hook
        journal = PurchaseJournal(context)
        if journal.entries:
            self.log.info(
                "Purchase journal of an earlier try: %s (claimed for the campaign if still owned)",
                ", ".join(sorted(journal.entries)),
            )
        country = selector.country
        assert country is not None  # _parse_selector guarantees it

        def candidates() -> Iterator[Any]:
            return hook.iter_available_numbers(
                country, **selector.search_kwargs(), page_size=100, limit=search_limit
            )

        plan = build_plan(
            owned=hook.iter_owned_numbers(**selector.listing_kwargs(), page_size=100),
            selector=selector,
            count=count,
            candidates=candidates,
            configuration=configuration,
            max_monthly_cost=max_cost,
            monthly_budget=budget,
            assumed_cost_per_owned_number=assumed,
            known_costs={**known, **journal.costs()},
            adopt_unconfigured=adopt,
            claimed=journal.entries,
            candidate_limit=search_limit,
        )
        self.log.info("Campaign plan%s:\n%s", " (dry run)" if dry_run else "", plan.render_table())

        if plan.shortfall is not None:
            message = (
                f"{type(self).__name__} {self.task_id}: shortfall of {plan.shortfall.missing} number(s) "
                f"({plan.shortfall.reason}): {plan.shortfall.detail}"
            )
            if on_shortfall == "fail":
                raise AirflowFailException(message + "; nothing was bought or changed (on_shortfall='fail')")
            self.log.warning("%s; applying what fits (on_shortfall='warn')", message)

        result: dict[str, Any] = {
            "dry_run": dry_run,
            "plan": plan.to_dict(),
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

        applied, campaign, writes = self._apply(hook, plan, configuration, budget, journal)
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
    ) -> tuple[dict[str, Any], list[PlanItem], int]:
        """Reconfigure and adopt, then buy + configure one number at a time, each at its fresh price, within
        the limits (see purchasing.buy_planned)."""
        from airflow_provider_nexmo_numbers.client.errors import NexmoMethodFailedError

        writes = 0
        applied: dict[str, Any] = {
            "reconfigured": [],
            "adopted": [],
            "bought": [],
            "skipped": [],
            "stopped": None,
        }
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
                bought = hook.buy_number(item.country, item.msisdn)
            except NexmoMethodFailedError:
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

    @staticmethod
    def _check_settings(number: Any, configuration: Mapping[str, str], msisdn: str) -> None:
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
        wanted = {item.msisdn for item in campaign}
        found: set[str] = set()
        problems: list[str] = []
        for number in hook.iter_owned_numbers(**selector.listing_kwargs(), page_size=100):
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
