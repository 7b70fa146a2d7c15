"""Release (cancel the rental of) an owned number; releasing a number already gone is success.

The cancellation is recorded in the ledger (docs/ledger.md), opened before the request: an unreachable ledger
fails the task with nothing cancelled. A dry run does not touch it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_nexmo_numbers.operators.base import (
    NexmoBaseOperator,
    open_task_ledger,
    parse_bool,
    validation,
)

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context


class NexmoCancelNumberOperator(NexmoBaseOperator):
    """Cancel a number; idempotent, so a retry after a crash or a dropped connection is safe.

    If the account no longer owns the number (released earlier, or by an earlier try whose answer got lost),
    the task succeeds with ``already_released: true``. With ``dry_run`` it only looks the number up.

    :param country: ISO 3166-1 alpha-2 country code of the number (templated).
    :param msisdn: the number (templated).
    :param dry_run: report what would happen, release nothing (templated).
    :param target_api_key: Vonage flavour: the subaccount that rents the number (templated); recorded.
    :param ledger_conn_id: the ledger's Airflow connection (templated); see docs/ledger.md.
    :param nexmo_conn_id: connection id (templated).

    XCom: ``{"country", "msisdn", "already_released", "dry_run"}``.
    """

    template_fields: Sequence[str] = (
        "nexmo_conn_id",
        "country",
        "msisdn",
        "dry_run",
        "target_api_key",
        "ledger_conn_id",
    )

    def __init__(
        self,
        *,
        country: str,
        msisdn: str,
        dry_run: bool | str = False,
        target_api_key: str | None = None,
        ledger_conn_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.target_api_key = target_api_key
        self.ledger_conn_id = ledger_conn_id
        self.country = country
        self.msisdn = msisdn
        self.dry_run = dry_run
        self.validate_at_construction()

    def validate_inputs(self) -> None:
        self.check_input("country", lambda v: validation().validate_country(v), optional=False)
        self.check_input("msisdn", lambda v: validation().validate_msisdn(v), optional=False)
        self.check_input("dry_run", lambda v: parse_bool("dry_run", v), optional=False)

    def execute(self, context: Context) -> dict[str, Any]:
        self.validate_before_requests()
        country = validation().validate_country(self.country)
        msisdn = validation().validate_msisdn(self.msisdn)
        if parse_bool("dry_run", self.dry_run):
            owned = self.hook.find_owned_number(msisdn)
            if owned is None:
                self.log.info(
                    "Dry run: %s (%s) is not owned; a real run would succeed as already released.",
                    msisdn,
                    country,
                )
            else:
                self.log.info("Dry run: would release %s (%s); nothing released.", msisdn, country)
            return {"country": country, "msisdn": msisdn, "already_released": owned is None, "dry_run": True}

        from airflow_provider_nexmo_numbers.ledger.airflow import owner_of

        ledger = open_task_ledger(self, self.ledger_conn_id)  # before the request
        try:
            extra = {"target_api_key": self.target_api_key} if self.target_api_key else {}
            result = self.hook.cancel_number(country, msisdn, **extra).to_dict()
            ledger.record_release(
                msisdn=msisdn,
                country=country,
                owner=owner_of(context, self.task_id),
                kind="cancel",
                already_released=bool(result.get("already_released")),
                target_api_key=self.target_api_key or None,
            )
        finally:
            ledger.close()
        if result.get("already_released"):
            self.log.warning(
                "%s (%s) was not owned any more: treated as released (already_released).", msisdn, country
            )
        else:
            self.log.info("Released %s (%s).", msisdn, country)
        return {**result, "dry_run": False}
