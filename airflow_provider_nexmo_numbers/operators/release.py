"""End of a campaign: cancel the numbers a selector matches, or an explicit list, with guards against
accidents.

Releasing a number is hard to undo (someone else may rent it the next minute), so the operator decides the
whole list before the first cancellation and checks every guard on that list:

- an empty selector (which matches every owned number) is refused unless ``allow_all=True``;
- a marker that is empty or whitespace (e.g. ``{"mo_http_url": "{{ params.hook }}"}`` rendered with an empty
  default) would match every *unconfigured* number of every campaign: it is refused unless
  ``allow_unconfigured=True`` says that is meant;
- ``keep`` msisdns are never released;
- more targets than ``max_release`` (default 10) fails the task before anything is cancelled;
- ``dry_run`` returns what would be released.

Every release is recorded in the ledger (docs/ledger.md), which is opened before the first request: an
unreachable ledger fails the task with nothing cancelled. A dry run does not touch it.

Idempotent across retries: a number cancelled by an earlier try is no longer owned, so it is no longer a
target (selector) or it is reported as ``already_released`` (explicit list); the client's `cancel_number`
resolves an ambiguous failure (dropped connection after the commit) by looking before it retries.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_provider_nexmo_numbers.campaigns.selector import CONFIG_FIELDS, NumberSelector
from airflow_provider_nexmo_numbers.operators.base import (
    NexmoBaseOperator,
    open_task_ledger,
    parse_bool,
    parse_int,
    validation,
    validation_error,
)

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

    from airflow_provider_nexmo_numbers.client.models import OwnedNumber
    from airflow_provider_nexmo_numbers.hooks.nexmo_numbers import NexmoNumbersHook
    from airflow_provider_nexmo_numbers.ledger.core import Ledger

#: Most numbers one run releases unless max_release says otherwise: releases are hard to undo.
DEFAULT_MAX_RELEASE = 10
# Up to this many explicit msisdns are looked up one by one; more are matched in one pass over the account.
_LOOKUP_ONE_BY_ONE = 10


def parse_msisdns(value: Any, field: str = "msisdns") -> list[str]:
    """Normalise an explicit list: msisdns as strings/ints, dicts with an ``msisdn`` key (plan items, owned
    numbers), an ensure result (its ``msisdns``), or a string (JSON list, or comma/space separated, e.g. a
    rendered template). Order kept, duplicates dropped."""
    if isinstance(value, Mapping):
        if "msisdns" in value:
            return parse_msisdns(value["msisdns"], field)
        if "msisdn" in value:
            return parse_msisdns([value], field)
        raise validation_error(
            field, "must be a list of msisdns (a mapping needs an 'msisdns' or 'msisdn' key)"
        )
    if isinstance(value, str):
        text = value.strip()
        try:
            decoded = json.loads(text) if text.startswith(("[", "{")) else None
        except ValueError:
            decoded = None
        if decoded is not None:
            return parse_msisdns(decoded, field)
        value = [part.strip(" '\"[]") for part in text.replace(",", " ").split()]
        value = [part for part in value if part]
    if isinstance(value, int) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, (list, tuple, set, frozenset)):
        raise validation_error(field, f"must be a list of msisdns, got {type(value).__name__}")
    result: list[str] = []
    for item in value:
        raw = item.get("msisdn") if isinstance(item, Mapping) else item
        msisdn = validation().validate_msisdn(raw, field=field)
        if msisdn not in result:
            result.append(msisdn)
    return result


class NexmoReleaseNumbersOperator(NexmoBaseOperator):
    """Cancel the numbers ``selector`` matches, or the explicit ``msisdns``; guarded and idempotent.

    :param selector: `NumberSelector` or mapping (templated): identity criteria and/or marker, e.g.
        ``{"country": "GB", "mo_http_url": "https://hooks.example/campaign-7"}``. With ``msisdns`` it further
        filters the list (a number that no longer matches is reported under ``not_matching`` and kept).
    :param msisdns: explicit numbers to release (templated; e.g. ``ensure_task.output`` or its ``msisdns``).
        ``[]`` releases nothing.
    :param keep: msisdns never to release (templated).
    :param max_release: most numbers one run may release (default 10); more fails the task before anything
        is cancelled (templated).
    :param allow_unconfigured: allow a selector whose marker is empty or whitespace, i.e. "numbers without
        this setting", which matches every unconfigured number of every campaign (templated).
    :param ledger_conn_id: the ledger's Airflow connection (templated); see docs/ledger.md.
    :param saved_plan: a dry run's XCom (e.g. approved by a person): release exactly its ``would_release``,
        or refuse before cancelling anything if the targets of now differ (templated).
    :param allow_all: allow an empty selector without ``msisdns``, i.e. releasing every owned number
        (templated).
    :param dry_run: report what would be released, cancel nothing (templated).
    :param nexmo_conn_id: connection id (templated).

    XCom: ``{"dry_run", "released": [{"country", "msisdn", "already_released"}], "would_release": [...],
    "already_released": [msisdn], "kept": [msisdn], "not_matching": [msisdn], "count"}``; ``count`` is how
    many numbers this run released (or would release in a dry run).
    """

    template_fields: Sequence[str] = (
        "nexmo_conn_id",
        "selector",
        "msisdns",
        "keep",
        "max_release",
        "allow_all",
        "allow_unconfigured",
        "dry_run",
        "ledger_conn_id",
        "saved_plan",
    )
    template_fields_renderers = {"selector": "json", "msisdns": "json", "keep": "json", "saved_plan": "json"}

    def __init__(
        self,
        *,
        selector: NumberSelector | Mapping[str, Any] | None = None,
        msisdns: Sequence[Any] | str | Mapping[str, Any] | None = None,
        keep: Sequence[Any] | str | None = None,
        max_release: int | str = DEFAULT_MAX_RELEASE,
        allow_all: bool | str = False,
        allow_unconfigured: bool | str = False,
        dry_run: bool | str = False,
        ledger_conn_id: str | None = None,
        saved_plan: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.saved_plan = saved_plan
        self.allow_unconfigured = allow_unconfigured
        self.ledger_conn_id = ledger_conn_id
        self.selector = selector.to_dict() if isinstance(selector, NumberSelector) else selector
        self.msisdns = msisdns
        self.keep = keep
        self.max_release = max_release
        self.allow_all = allow_all
        self.dry_run = dry_run
        self.validate_at_construction()

    # -- validation ------------------------------------------------------------------------------------------

    def validate_inputs(self) -> None:
        selector = self.check_input("selector", NumberSelector.parse, optional=True)
        self.check_input("msisdns", parse_msisdns)
        self.check_input("keep", lambda v: parse_msisdns(v, "keep"))
        self.check_input("max_release", lambda v: parse_int("max_release", v, minimum=0), optional=False)
        allow_all = self.check_input("allow_all", lambda v: parse_bool("allow_all", v), optional=False)
        allow_unconfigured = self.check_input(
            "allow_unconfigured", lambda v: parse_bool("allow_unconfigured", v), optional=False
        )
        self.check_input("dry_run", lambda v: parse_bool("dry_run", v), optional=False)
        self.check_input("saved_plan", _saved_targets)
        if self.any_late("selector", "msisdns", "allow_all", "allow_unconfigured"):
            return
        blank = sorted(
            name
            for name, value in (self.selector or {}).items()
            if name in CONFIG_FIELDS and isinstance(value, str) and not value.strip()
        )
        if blank and not allow_unconfigured:
            self.fail_input(
                f"selector.{blank[0]}",
                "is empty, which matches every number without this setting, i.e. every unconfigured number "
                "of every campaign (a template that rendered to ''?); give the campaign's value, or set "
                "allow_unconfigured=True if releasing numbers without it is really meant",
            )
        empty = selector is None or selector.is_empty
        if empty and self.msisdns is None and not allow_all:
            self.fail_input(
                "selector",
                "an empty selector matches every owned number; give criteria or msisdns, or set "
                "allow_all=True to really release everything",
            )

    # -- execution -------------------------------------------------------------------------------------------

    def execute(self, context: Context) -> dict[str, Any]:
        self.validate_before_requests()
        selector = NumberSelector.parse(self.selector)
        explicit = None if self.msisdns is None else parse_msisdns(self.msisdns)
        keep = set() if self.keep is None else set(parse_msisdns(self.keep, "keep"))
        max_release = parse_int("max_release", self.max_release, minimum=0)
        dry_run = parse_bool("dry_run", self.dry_run)
        ledger = None if dry_run else open_task_ledger(self, self.ledger_conn_id)  # before any request
        try:
            return self._release(context, selector, explicit, keep, max_release, dry_run, ledger)
        finally:
            if ledger is not None:
                ledger.close()

    def _release(
        self,
        context: Context,
        selector: NumberSelector,
        explicit: list[str] | None,
        keep: set[str],
        max_release: int,
        dry_run: bool,
        ledger: Ledger | None,
    ) -> dict[str, Any]:
        from airflow_provider_nexmo_numbers.ledger.airflow import owner_of

        hook = self.hook

        if explicit is None:
            self.log.info("Releasing the owned numbers matching: %s", selector.describe())
            owned = hook.iter_owned_numbers(**selector.listing_kwargs(), page_size=100, consistent=True)
            candidates = [n for n in owned if selector.matches(n)]
            gone: list[str] = []
            not_matching: list[str] = []
        else:
            self.log.info(
                "Releasing %d listed number(s), filtered by: %s", len(explicit), selector.describe()
            )
            found = self._find(hook, explicit)
            gone = [m for m in explicit if m not in found]
            candidates = [found[m] for m in explicit if m in found and selector.matches(found[m])]
            not_matching = [m for m in explicit if m in found and not selector.matches(found[m])]

        kept = sorted(n.msisdn for n in candidates if n.msisdn in keep)
        targets = sorted((n for n in candidates if n.msisdn not in keep), key=lambda n: n.msisdn)
        self.log.info(
            "%d to release, %d kept, %d no longer owned, %d not matching the selector",
            len(targets),
            len(kept),
            len(gone),
            len(not_matching),
        )
        if len(targets) > max_release:
            raise AirflowFailException(
                f"{type(self).__name__} {self.task_id}: {len(targets)} numbers would be released, more than "
                f"max_release={max_release}; nothing was cancelled. Targets: "
                + ", ".join(n.msisdn for n in targets[:20])
                + (" ..." if len(targets) > 20 else "")
            )

        if self.saved_plan is not None:
            saved = _saved_targets(self.saved_plan)
            now = {n.msisdn for n in targets}
            if saved != now:
                raise AirflowFailException(
                    f"{type(self).__name__} {self.task_id}: the saved release plan no longer holds, nothing "
                    f"was cancelled: planned but not targets now {sorted(saved - now)}, targets now but not "
                    f"planned {sorted(now - saved)}"
                )
        result: dict[str, Any] = {
            "dry_run": dry_run,
            "released": [],
            "would_release": [{"country": n.country, "msisdn": n.msisdn} for n in targets],
            "already_released": gone,
            "kept": kept,
            "not_matching": not_matching,
            "count": len(targets),
        }
        if dry_run:
            for number in targets:
                self.log.info("dry run: would release %s (%s)", number.msisdn, number.country)
            return result

        assert ledger is not None  # opened for every run that is not a dry run
        owner = owner_of(context, self.task_id)
        for number in targets:
            outcome = hook.cancel_number(number.country, number.msisdn)
            ledger.record_release(
                msisdn=number.msisdn,
                country=number.country,
                owner=owner,
                kind="release",
                already_released=outcome.already_released,
            )
            self.log.info(
                "released %s (%s)%s",
                number.msisdn,
                number.country,
                " (was already released)" if outcome.already_released else "",
            )
            result["released"].append(outcome.to_dict())
        return result

    @staticmethod
    def _find(hook: NexmoNumbersHook, msisdns: list[str]) -> dict[str, OwnedNumber]:
        """The listed numbers the account still owns."""
        if len(msisdns) <= _LOOKUP_ONE_BY_ONE:
            found = {m: hook.find_owned_number(m) for m in msisdns}
            return {m: n for m, n in found.items() if n is not None}
        wanted = set(msisdns)
        return {
            n.msisdn: n for n in hook.iter_owned_numbers(page_size=100, consistent=True) if n.msisdn in wanted
        }


def _saved_targets(value: Any) -> set[str]:
    """The msisdns a saved release plan (a dry run's XCom) would release."""
    if not isinstance(value, Mapping) or not isinstance(value.get("would_release"), list):
        raise validation_error("saved_plan", "must be a release dry run's XCom (with 'would_release')")
    return set(parse_msisdns(value["would_release"], "saved_plan.would_release"))
