"""Drift check of a campaign: read-only, compares the account with the desired state and the ledger."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException

from airflow_provider_nexmo_numbers.operators.base import NexmoBaseOperator, parse_int, validation_error

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

ON_DRIFT = ("warn", "fail")


class NexmoCampaignDriftOperator(NexmoBaseOperator):
    """Report how a campaign drifted: numbers reconfigured or released by hand, purchases the ledger does not
    know, a count that is off (campaigns/drift.py). Makes read requests only and writes nothing anywhere.

    :param selector: the campaign's selector, as given to `NexmoEnsureNumbersOperator` (templated).
    :param count: the number of numbers the campaign wants; None = do not check the count (templated).
    :param configuration: the settings the campaign's numbers carry (templated).
    :param campaign: the campaign's ledger name; default: the selector, described (templated).
    :param on_drift: ``warn`` (default: log the table, succeed) or ``fail`` (templated).
    :param ledger_conn_id: the ledger's Airflow connection (templated); see docs/ledger.md.
    :param nexmo_conn_id: connection id (templated).

    XCom: ``{"campaign", "drift": [{"kind", "msisdn", "detail"}], "count"}``.
    """

    template_fields: Sequence[str] = (
        "nexmo_conn_id",
        "selector",
        "count",
        "configuration",
        "campaign",
        "on_drift",
        "ledger_conn_id",
    )
    template_fields_renderers = {"selector": "json", "configuration": "json"}

    def __init__(
        self,
        *,
        selector: Mapping[str, Any],
        count: int | str | None = None,
        configuration: Mapping[str, Any] | None = None,
        campaign: str | None = None,
        on_drift: str = "warn",
        ledger_conn_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.selector = selector
        self.count = count
        self.configuration = configuration
        self.campaign = campaign
        self.on_drift = on_drift
        self.ledger_conn_id = ledger_conn_id
        self.validate_at_construction()

    @staticmethod
    def _on_drift(value: Any) -> str:
        if not isinstance(value, str) or value.strip().lower() not in ON_DRIFT:
            raise validation_error("on_drift", f"must be one of {', '.join(ON_DRIFT)}, got {value!r}")
        return value.strip().lower()

    def _parsed(self) -> tuple[Any, dict[str, str]]:
        from airflow_provider_nexmo_numbers.operators.ensure import NexmoEnsureNumbersOperator

        # The same rules as the campaign itself: a drift check of a selector ensure would refuse is useless.
        selector = NexmoEnsureNumbersOperator._parse_selector(self.selector)
        return selector, NexmoEnsureNumbersOperator._parse_configuration(self.configuration, selector)

    def validate_inputs(self) -> None:
        self.check_input("count", lambda v: parse_int("count", v, minimum=0))
        self.check_input("on_drift", self._on_drift, optional=False)
        if not self.any_late("selector", "configuration"):
            self._parsed()

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_nexmo_numbers.campaigns.drift import find_drift, render_drift
        from airflow_provider_nexmo_numbers.ledger.airflow import open_ledger
        from airflow_provider_nexmo_numbers.ledger.core import LedgerError

        self.validate_before_requests()
        selector, configuration = self._parsed()
        count = None if self.count is None else parse_int("count", self.count, minimum=0)
        name = self.campaign or selector.describe()
        owned = list(
            self.hook.iter_owned_numbers(**selector.listing_kwargs(), page_size=100, consistent=True)
        )
        try:
            with open_ledger(self.ledger_conn_id) as ledger:
                recorded = ledger.numbers(campaign=name)
        except LedgerError as err:
            raise AirflowException(
                f"{type(self).__name__} {self.task_id}: cannot compare with {err}"
            ) from err
        drift = find_drift(
            owned=owned, selector=selector, count=count, configuration=configuration, recorded=recorded
        )
        table = render_drift(drift)
        result = {"campaign": name, "drift": [d.to_dict() for d in drift], "count": len(drift)}
        if not drift:
            self.log.info("%s", table)
            return result
        if self._on_drift(self.on_drift) == "fail":
            raise AirflowFailException(f"campaign {name!r} drifted:\n{table}")
        self.log.warning("Campaign %r drifted:\n%s", name, table)
        return result
