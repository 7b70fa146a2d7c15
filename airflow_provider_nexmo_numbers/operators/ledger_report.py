"""The ledger's spend report: what the numbers it knows cost per campaign and country."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowException, BaseOperator

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context


class NexmoLedgerReportOperator(BaseOperator):
    """Report monthly spend per campaign and country from the ledger's recorded costs (docs/ledger.md).

    Reads the ledger only (no API request). Numbers without a recorded cost (bought outside the ledger) are
    counted under ``unknown_cost``.

    :param ledger_conn_id: the ledger's Airflow connection (templated).

    XCom: ``[{"campaign", "country", "numbers", "monthly_cost", "initial_cost", "unknown_cost"}]`` (money as
    decimal strings), one row per campaign and country; ``campaign`` is None for numbers bought by plain buy
    tasks.
    """

    template_fields: Sequence[str] = ("ledger_conn_id",)

    def __init__(self, *, ledger_conn_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.ledger_conn_id = ledger_conn_id

    def execute(self, context: Context) -> list[dict[str, Any]]:
        from airflow_provider_nexmo_numbers.ledger.airflow import open_ledger
        from airflow_provider_nexmo_numbers.ledger.core import LedgerError

        try:
            with open_ledger(self.ledger_conn_id) as ledger:
                report = ledger.spend_report()
        except LedgerError as err:
            raise AirflowException(f"{type(self).__name__} {self.task_id}: {err}") from err
        rows = [("CAMPAIGN", "COUNTRY", "NUMBERS", "EUR/MONTH", "INITIAL EUR", "UNKNOWN COST")]
        rows += [
            (
                r["campaign"] or "(plain buys)",
                r["country"],
                str(r["numbers"]),
                r["monthly_cost"],
                r["initial_cost"],
                str(r["unknown_cost"]),
            )
            for r in report
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        self.log.info(
            "Ledger spend report:\n%s",
            "\n".join(
                "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
            ),
        )
        return report
