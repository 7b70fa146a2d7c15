"""Iterate every number of a listing or search, page by page, in constant memory.

The API pages by 1-based page number (`index`), `size` at most 100, answers `{}` (no `count`, no
`numbers`) for an empty result or a page past the end, and its `count` may change while we page (numbers
bought or released meanwhile). The iterator therefore:
- asks pages 1, 2, 3 ... until `index * size >= count` of the latest page, or an empty page;
- remembers only the keys of the last two pages (constant memory) and skips a number seen there, so
  numbers shifted right by insertions are not yielded twice;
- when `count` shrank since the previous page (numbers removed before our position shift left into the
  page we already read), re-reads the previous page once and yields what it had not yet seen, so they are
  not missed;
- refuses to loop forever when a server ignores `index` (the same page twice raises). Shifts of more than
  a page between two requests cannot be repaired without holding every key; that is accepted.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterator
from typing import TypeVar

from airflow_provider_nexmo_numbers.client.errors import NexmoNumbersError, NexmoValidationError
from airflow_provider_nexmo_numbers.client.models import AvailableNumber, NumberPage, OwnedNumber
from airflow_provider_nexmo_numbers.client.validation import validate_page_size

__all__ = ["iter_numbers"]

log = logging.getLogger(__name__)

T = TypeVar("T", OwnedNumber, AvailableNumber)


def iter_numbers(
    fetch_page: Callable[[int, int], NumberPage[T]],
    *,
    page_size: int = 100,
    limit: int | None = None,
    max_pages: int = 1_000_000,
    operation: str = "paging",
) -> Iterator[T]:
    """Yield every number from `fetch_page(index, size)`, pages 1, 2, 3 ..., at most `limit` numbers."""
    size = validate_page_size(page_size, field="page_size")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise NexmoValidationError(
            f"invalid limit {limit!r}", field="limit", rule="must be an integer >= 0 or None"
        )
    if limit == 0:
        return
    recent: deque[frozenset[str]] = deque(maxlen=2)
    previous_keys: list[str] | None = None
    previous_count: int | None = None
    yielded = 0
    index = 1
    while index <= max_pages:
        page = fetch_page(index, size)
        if not page.numbers:
            log.debug("%s: page %d is empty; done after %d numbers", operation, index, yielded)
            return
        keys = [number.msisdn for number in page.numbers]
        if previous_keys is not None and keys == previous_keys:
            raise NexmoNumbersError(
                f"paging did not advance: page {index} repeated page {index - 1} "
                "(does the server ignore index?)",
                operation=operation,
            )
        batch = list(page.numbers)
        if previous_count is not None and page.count < previous_count:
            log.info(
                "%s: count shrank from %d to %d while paging; re-reading page %d so no number is missed",
                operation,
                previous_count,
                page.count,
                index - 1,
            )
            batch = list(fetch_page(index - 1, size).numbers) + batch
        fresh: set[str] = set()
        seen_before = frozenset().union(*recent)  # once per page, not once per number
        for number in batch:
            if number.msisdn in fresh or number.msisdn in seen_before:
                continue
            fresh.add(number.msisdn)
            yield number
            yielded += 1
            if limit is not None and yielded >= limit:
                return
        recent.append(frozenset(fresh) | frozenset(keys))
        log.debug(
            "%s: page %d gave %d numbers (%d so far of count %d)",
            operation,
            index,
            len(fresh),
            yielded,
            page.count,
        )
        if index * size >= page.count:
            return
        previous_keys, previous_count = keys, page.count
        index += 1
    raise NexmoNumbersError(
        f"paging stopped after {max_pages} pages without reaching the end", operation=operation
    )
