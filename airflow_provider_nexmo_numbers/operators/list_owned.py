"""List the account's numbers with filters, capped for XCom (full inventories belong in the exports)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_nexmo_numbers.operators.base import NexmoBaseOperator, parse_int, validation

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

DEFAULT_MAX_XCOM_NUMBERS = 1000


class NexmoListOwnedNumbersOperator(NexmoBaseOperator):
    """Return the owned numbers matching the filters, at most ``max_xcom_numbers`` of them.

    ``pattern``/``search_pattern`` filter on the API side; ``country``, ``type`` and ``features`` (a number
    must have all the features asked for) are applied here, because the KPN gateway does not filter on them.
    Paging stops as soon as the cap is exceeded, so a huge account costs a bounded number of requests; the log
    says when the cap cut the list. For complete inventories use ``NexmoNumbersToSqlOperator`` or
    ``NexmoNumbersToFileOperator``, which stream every page.

    :param pattern: digits to match (templated).
    :param search_pattern: 0/``starts_with``, 1/``contains``, 2/``ends_with`` (templated).
    :param country: keep numbers of this country only (templated).
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
        type: str | None = None,
        features: str | Sequence[str] | None = None,
        max_xcom_numbers: int | str = DEFAULT_MAX_XCOM_NUMBERS,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.pattern = pattern
        self.search_pattern = search_pattern
        self.country = country
        self.type = type
        self.features = features
        self.max_xcom_numbers = max_xcom_numbers
        self.validate_at_construction()

    def validate_inputs(self) -> None:
        self.check_criteria(country_required=False)
        self.check_input(
            "max_xcom_numbers", lambda v: parse_int("max_xcom_numbers", v, minimum=1), optional=False
        )

    def execute(self, context: Context) -> list[dict[str, Any]]:
        self.validate_before_requests()
        v = validation()
        country = None if self.country is None else v.validate_country(self.country)
        number_type = v.validate_number_type(self.type)
        wanted = set(v.features_to_list(v.validate_features(self.features)))
        cap = parse_int("max_xcom_numbers", self.max_xcom_numbers, minimum=1)

        kept: list[dict[str, Any]] = []
        examined = 0
        cut = False
        for number in self.hook.iter_owned_numbers(pattern=self.pattern, search_pattern=self.search_pattern):
            examined += 1
            if country is not None and number.country != country:
                continue
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
