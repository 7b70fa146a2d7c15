"""List the account's numbers with filters, capped for XCom (full inventories belong in the exports)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_nexmo_numbers.operators.base import (
    NexmoBaseOperator,
    parse_bool,
    parse_int,
    validation,
    validation_error,
)

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

DEFAULT_MAX_XCOM_NUMBERS = 1000


def _application_id(value: Any) -> str | None:
    """None, or a non-empty application id."""
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise validation_error("application_id", "must be a non-empty string (a Vonage Application id)")
    return value.strip()


class NexmoListOwnedNumbersOperator(NexmoBaseOperator):
    """Return the owned numbers matching the filters, at most ``max_xcom_numbers`` of them.

    ``pattern``/``search_pattern`` filter on the API side. ``country``, ``application_id`` and
    ``has_application`` filter on the API side on Vonage direct (connection extra ``api=vonage``) and here,
    on every listed number, on KPN (whose gateway does not take them). ``type`` and ``features`` (a number
    must have all the features asked for) are always applied here.
    Paging stops as soon as the cap is exceeded, so a huge account costs a bounded number of requests; the log
    says when the cap cut the list. For complete inventories use ``NexmoNumbersToSqlOperator`` or
    ``NexmoNumbersToFileOperator``, which stream every page.

    :param pattern: digits to match (templated).
    :param search_pattern: 0/``starts_with``, 1/``contains``, 2/``ends_with`` (templated).
    :param country: keep numbers of this country only (templated).
    :param application_id: keep numbers linked to this Vonage Application (templated).
    :param has_application: keep numbers linked to an application (True) or not linked (False)
        (templated).
    :param type: keep numbers of this type only (templated).
    :param features: keep numbers having all these features (templated).
    :param max_xcom_numbers: cap on the numbers returned (default 1000; templated).
    :param nexmo_conn_id: connection id (templated).

    XCom: a list of ``OwnedNumber.to_dict()`` dicts (see ``NexmoUpdateNumberOperator``), in the API's order.
    """

    template_fields: Sequence[str] = (
        "nexmo_conn_id",
        "pattern",
        "search_pattern",
        "country",
        "application_id",
        "has_application",
        "type",
        "features",
        "max_xcom_numbers",
    )

    def __init__(
        self,
        *,
        pattern: str | None = None,
        search_pattern: int | str | None = None,
        country: str | None = None,
        application_id: str | None = None,
        has_application: bool | str | None = None,
        type: str | None = None,
        features: str | Sequence[str] | None = None,
        max_xcom_numbers: int | str = DEFAULT_MAX_XCOM_NUMBERS,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.pattern = pattern
        self.search_pattern = search_pattern
        self.country = country
        self.application_id = application_id
        self.has_application = has_application
        self.type = type
        self.features = features
        self.max_xcom_numbers = max_xcom_numbers
        self.validate_at_construction()

    def validate_inputs(self) -> None:
        self.check_criteria(country_required=False)
        self.check_input("has_application", lambda v: parse_bool("has_application", v))
        self.check_input("application_id", _application_id)
        self.check_input(
            "max_xcom_numbers", lambda v: parse_int("max_xcom_numbers", v, minimum=1), optional=False
        )

    def execute(self, context: Context) -> list[dict[str, Any]]:
        self.validate_before_requests()
        v = validation()
        country = None if self.country is None else v.validate_country(self.country)
        has_application = (
            None if self.has_application is None else parse_bool("has_application", self.has_application)
        )
        number_type = v.validate_number_type(self.type)
        wanted = set(v.features_to_list(v.validate_features(self.features)))
        cap = parse_int("max_xcom_numbers", self.max_xcom_numbers, minimum=1)

        kept: list[dict[str, Any]] = []
        examined = 0
        cut = False
        numbers = self.hook.iter_owned_numbers(
            pattern=self.pattern,
            search_pattern=self.search_pattern,
            country=country,
            application_id=_application_id(self.application_id),
            has_application=has_application,
        )
        for number in numbers:
            examined += 1
            if number_type is not None and number.type != number_type:
                continue
            if not wanted <= set(number.features):
                continue
            if len(kept) >= cap:
                cut = True
                break
            kept.append(number.to_dict())

        if cut:
            self.log.warning(
                "More than max_xcom_numbers=%d owned numbers match; returning the first %d and stopping the "
                "listing there (%d examined). XCom is no place for a full inventory: use "
                "NexmoNumbersToSqlOperator or NexmoNumbersToFileOperator for all of them.",
                cap,
                cap,
                examined,
            )
        else:
            self.log.info("%d owned number(s) match (%d examined).", len(kept), examined)
        return kept
