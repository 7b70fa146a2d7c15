"""Search the pool of numbers available to buy, optionally within a monthly budget per number."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from airflow_provider_nexmo_numbers.operators.base import (
    NexmoBaseOperator,
    parse_int,
    parse_money,
    validation,
)

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

MAX_PAGE_SIZE = 100
# With a budget, matches can be rare: examine at most this many offers beyond `limit` (bounded requests).
MAX_EXAMINED_EXTRA = 1000


class NexmoSearchNumbersOperator(NexmoBaseOperator):
    """Find numbers available to buy and return them, with their monthly cost, to XCom.

    Pages through the search as needed until `limit` matches are found (numbers above `max_monthly_cost` do
    not count towards the limit, and at most ``limit + 1000`` offers are examined) or the pool is exhausted.

    :param country: ISO 3166-1 alpha-2 country code, e.g. ``"NL"`` (templated).
    :param type: ``landline``, ``landline-toll-free`` or ``mobile-lvn`` (templated).
    :param features: required features, a list or comma string of ``SMS``, ``VOICE``, ``MMS`` (templated).
    :param pattern: digits the number must match (templated).
    :param search_pattern: where `pattern` matches: 0/``starts_with``, 1/``contains``, 2/``ends_with``
        (templated).
    :param limit: how many matching numbers to return at most (templated; default 10).
    :param page_size: search page size, 1 to 100 (default 100; smaller when ``limit`` is smaller and no budget
        filter applies; templated).
    :param max_monthly_cost: drop numbers whose monthly cost (EUR) exceeds this; a string like ``"1.50"`` or a
        Decimal is compared exactly (templated).
    :param nexmo_conn_id: connection id (templated).

    XCom: a list of ``{"country", "msisdn", "type", "features", "cost", "initial_price"}`` dicts, costs as
    strings (e.g. ``"1.25"``), in the API's order.
    """

    template_fields: Sequence[str] = (
        "nexmo_conn_id",
        "country",
        "type",
        "features",
        "pattern",
        "search_pattern",
        "limit",
        "max_monthly_cost",
        "page_size",
    )

    def __init__(
        self,
        *,
        country: str,
        type: str | None = None,
        features: str | Sequence[str] | None = None,
        pattern: str | None = None,
        search_pattern: int | str | None = None,
        limit: int | str = 10,
        max_monthly_cost: str | Decimal | int | float | None = None,
        page_size: int | str = MAX_PAGE_SIZE,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.country = country
        self.type = type
        self.features = features
        self.pattern = pattern
        self.search_pattern = search_pattern
        self.limit = limit
        self.max_monthly_cost = max_monthly_cost
        self.page_size = page_size
        self.validate_at_construction()

    def validate_inputs(self) -> None:
        self.check_criteria()
        self.check_input("limit", lambda v: parse_int("limit", v, minimum=1), optional=False)
        self.check_input("max_monthly_cost", lambda v: parse_money("max_monthly_cost", v))
        self.check_input(
            "page_size", lambda v: validation().validate_page_size(v, "page_size"), optional=False
        )

    def execute(self, context: Context) -> list[dict[str, Any]]:
        self.validate_before_requests()
        limit = parse_int("limit", self.limit)
        budget = (
            None if self.max_monthly_cost is None else parse_money("max_monthly_cost", self.max_monthly_cost)
        )
        page_size = validation().validate_page_size(self.page_size, "page_size")

        found: list[dict[str, Any]] = []
        seen = skipped = 0
        for number in self.hook.iter_available_numbers(
            self.country,
            **self.criteria_kwargs(),
            # Without a budget every number counts, so ask for no more than needed.
            page_size=page_size if budget is not None else min(limit, page_size),
            limit=limit + MAX_EXAMINED_EXTRA if budget is not None else limit,
        ):
            seen += 1
            if budget is not None and number.cost > budget:
                skipped += 1
                continue
            found.append(number.to_dict())
            if len(found) >= limit:
                break

        budget_note = f", {skipped} above max_monthly_cost {budget}" if budget is not None else ""
        if budget is not None and len(found) < limit and seen >= limit + MAX_EXAMINED_EXTRA:
            budget_note += f"; stopped after examining {seen} offers (the pool may hold more)"
        self.log.info(
            "Search in %s: %d number(s) returned (limit %d) after examining %d%s.",
            self.country,
            len(found),
            limit,
            seen,
            budget_note,
        )
        return found
