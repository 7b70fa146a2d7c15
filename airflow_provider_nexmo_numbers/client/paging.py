"""Iterate every number of a listing or search, page by page, in constant memory.

The API pages by 1-based page number (`index`, so a page starts at offset `(index - 1) * size`), `size` at
most 100, answers `{}` (no `count`, no `numbers`) for an empty result or a page past the end, and its
listing can change while we page (numbers bought or released meanwhile). Two modes:

**Lenient** (the default, for searches and quick listings): pages 1, 2, 3 ... until `index * size >= count`
or a short or empty page. A page without a `count` never ends the paging by itself. The keys of the last two
pages are remembered (constant memory) so numbers shifted right by insertions are not yielded twice; when
`count` shrank, the previous page is re-read once so numbers shifted left are not missed. That repairs the
common cases but cannot see a listing that changed with its count unchanged (one number released before our
position and one bought after it shifts the boundary by one and a number is silently skipped).

**Consistent** (`consistent=True`, what the exports use): every page overlaps the previous one by at least
one position, and a page is accepted only when it contains a number of the previous page. With a stable
order (the API lists by msisdn), that proves nothing was skipped at the boundary, whatever happened to
`count`: insertions before our position show up as extra duplicates (dropped), removals as a page without
any known number, which is re-read further back (`MAX_REREADS` times) and otherwise fails loudly with
`ListingChangedError`. A short page before the end that `count` announces is re-read the same way; a missing
`count` makes the paging continue to the first short page. Pages of 100 cannot overlap (offsets are
multiples of the size), so `plan_page` picks, for each request, the size (up to 100) whose aligned offset
lands inside the previous page and reaches furthest: about 12-14% more requests than `count / 100` on
large accounts, and no more for accounts up to a few hundred numbers. `planned_requests(count)` says how
many exactly, for an estimate before the first request.
"""

from __future__ import annotations

import functools
import logging
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any, TypeVar

from airflow_provider_nexmo_numbers.client.errors import NexmoNumbersError, NexmoValidationError
from airflow_provider_nexmo_numbers.client.models import AvailableNumber, NumberPage, OwnedNumber
from airflow_provider_nexmo_numbers.client.validation import validate_page_size

__all__ = ["ListingChangedError", "PagingStats", "iter_numbers", "plan_page", "planned_requests"]

log = logging.getLogger(__name__)

T = TypeVar("T", OwnedNumber, AvailableNumber)

#: Consistent mode: re-reads of one boundary before giving up (each steps half a page further back).
MAX_REREADS = 4


class ListingChangedError(NexmoNumbersError):
    """The listing moved under a consistent read so far that no complete snapshot could be proven."""


@dataclass
class PagingStats:
    """What a read saw: requests made, numbers yielded (updated once per page), pages re-read, `count` as
    first and last reported."""

    requests: int = 0
    numbers: int = 0
    rereads: int = 0
    count_changes: int = 0
    first_count: int | None = None
    last_count: int | None = None


def plan_page(end: int, max_size: int = 100) -> tuple[int, int]:
    """(offset, size) of the next page that covers position `end - 1` (overlap) and reaches furthest.

    The API only serves pages at offsets that are multiples of their size; among the sizes from `max_size`
    down to half of it, the one whose aligned offset is the last one at or before `end - 1` and whose end is
    furthest wins (the larger size on a tie).
    """
    if end <= 0:
        return 0, max_size
    best_offset, best_size = 0, max_size
    for size in range(max_size, max(1, max_size // 2) - 1, -1):
        offset = (end - 1) // size * size
        if offset + size > best_offset + best_size:
            best_offset, best_size = offset, size
    return best_offset, best_size


@functools.lru_cache(maxsize=64)
def planned_requests(count: int, max_size: int = 100) -> int:
    """Requests a consistent read of a listing of `count` numbers makes when nothing moves.

    Remembered per count: an export's progress asks after every page, and each answer walks the whole plan
    (for 100,000 numbers, 1,143 pages each asking once had cost ~4 s, twice the rest of the export).
    """
    offset, size = plan_page(0, max_size)
    requests = 1
    while offset + size < count:
        offset, size = plan_page(offset + size, max_size)
        requests += 1
    return requests


def iter_numbers(
    fetch_page: Callable[[int, int], NumberPage[T]],
    *,
    page_size: int = 100,
    limit: int | None = None,
    max_pages: int = 1_000_000,
    operation: str = "paging",
    consistent: bool = False,
    stats: PagingStats | None = None,
) -> Iterator[T]:
    """Yield every number from `fetch_page(index, size)`, at most `limit` numbers (see the module doc).

    Arguments are checked here, before any request; the pages are fetched lazily as numbers are consumed.
    `consistent=True` proves every page boundary (pages of up to `page_size`) and fails with
    `ListingChangedError` rather than return a partial listing; `stats` (optional) is filled as it goes.
    """
    size = validate_page_size(page_size, field="page_size")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise NexmoValidationError(
            f"invalid limit {limit!r}", field="limit", rule="must be an integer >= 0 or None"
        )
    numbers = (_consistent if consistent else _lenient)(fetch_page, size, max_pages, operation, stats)
    return numbers if limit is None else _limited(numbers, limit)


def _limited(numbers: Iterator[T], limit: int | None) -> Iterator[T]:
    if limit == 0:
        return
    for yielded, number in enumerate(numbers, start=1):
        yield number
        if limit is not None and yielded >= limit:
            return


def _unseen(
    batch: Sequence[T], keys: Sequence[str], recent: Iterable[AbstractSet[str]]
) -> tuple[Sequence[T], set[str]]:
    """The numbers of `batch` (whose msisdns are `keys`) not in any of the `recent` key sets, each msisdn
    once, and their msisdns.

    A page that repeats nothing, the usual case, is handed back whole: set operations in C decide that, so
    reading a listing costs no Python work per number here.
    """
    unique = set(keys)
    if len(unique) == len(keys) and all(unique.isdisjoint(seen) for seen in recent):
        return batch, unique
    kept: list[T] = []
    fresh: set[str] = set()
    for number in batch:
        if number.msisdn not in fresh and not any(number.msisdn in seen for seen in recent):
            fresh.add(number.msisdn)
            kept.append(number)
    return kept, fresh


def _count(page: NumberPage[Any]) -> int | None:
    """The page's `count`, or None when the response carried none (then it cannot end the paging)."""
    return page.count if getattr(page, "count_given", True) else None


def _lenient(
    fetch_page: Callable[[int, int], NumberPage[T]],
    size: int,
    max_pages: int,
    operation: str,
    stats: PagingStats | None,
) -> Iterator[T]:
    stats = stats if stats is not None else PagingStats()
    recent: deque[set[str]] = deque(maxlen=2)
    previous_keys: list[str] | None = None
    previous_count: int | None = None
    yielded = 0
    index = 1
    while index <= max_pages:
        page = fetch_page(index, size)
        stats.requests += 1
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
        count = _count(page)
        batch, batch_keys = page.numbers, keys
        if previous_count is not None and count is not None and count < previous_count:
            log.info(
                "%s: count shrank from %d to %d while paging; re-reading page %d so no number is missed",
                operation,
                previous_count,
                count,
                index - 1,
            )
            batch = [*fetch_page(index - 1, size).numbers, *batch]
            batch_keys = [number.msisdn for number in batch]
            stats.requests += 1
            stats.rereads += 1
        numbers, fresh = _unseen(batch, batch_keys, recent)
        yield from numbers
        yielded += len(fresh)
        stats.numbers += len(fresh)
        recent.append(fresh if batch_keys is keys else fresh.union(keys))
        log.debug(
            "%s: page %d gave %d numbers (%d so far, count %s)", operation, index, len(fresh), yielded, count
        )
        if (index * size >= count) if count is not None else len(keys) < size:
            return  # the count says it is the end; without a count, a short (or empty) page does
        previous_keys, previous_count = keys, count
        index += 1
    raise NexmoNumbersError(
        f"paging stopped after {max_pages} pages without reaching the end", operation=operation
    )


def _consistent(
    fetch_page: Callable[[int, int], NumberPage[T]],
    max_size: int,
    max_pages: int,
    operation: str,
    stats: PagingStats | None,
) -> Iterator[T]:
    stats = stats if stats is not None else PagingStats()
    # Keys of the last accepted pages, for duplicates: enough to cover every page a run of re-reads (each
    # accepted too) can step back over.
    recent: deque[frozenset[str]] = deque(maxlen=MAX_REREADS + 3)
    anchor: frozenset[str] | None = None  # keys of the last accepted page: the next page must hold one
    previous: tuple[int, list[str]] | None = None  # offset and keys of the last accepted page
    end = 0  # positions [0, end) have been read
    frontier = 0  # the furthest `end` so far: re-reads count until a page gets past it
    failures = back = 0  # failed reads of the current boundary; how far before `end` the next read starts
    while stats.requests < max_pages:
        offset, size = plan_page(max(1, end - back) if end else 0, max_size)
        page = fetch_page(offset // size + 1, size)
        stats.requests += 1
        keys = [number.msisdn for number in page.numbers]
        count = _count(page)
        _note_count(stats, count, operation)
        if previous is not None and keys and offset != previous[0] and keys == previous[1][: len(keys)]:
            raise NexmoNumbersError(
                f"paging did not advance: the page at offset {offset} repeated the one at offset "
                f"{previous[0]} (does the server ignore index?)",
                operation=operation,
            )
        problem = None
        if anchor is not None and anchor.isdisjoint(keys):
            problem = (
                f"the page at offset {offset} holds none of the numbers of the page before "
                f"(numbers were released or bought before position {end} while paging)"
            )
        elif count is not None and len(keys) < size and offset + len(keys) < count:
            problem = f"a short page ({len(keys)} of {size}) at offset {offset} while count says {count}"
        if problem:
            failures += 1
            stats.rereads += 1
            if failures > MAX_REREADS:
                raise ListingChangedError(
                    f"the listing kept changing while it was read: {problem}; gave up after {MAX_REREADS} "
                    f"re-reads of that boundary ({stats.requests} requests; count "
                    f"{stats.first_count} -> {stats.last_count}). No partial listing is returned: re-run",
                    operation=operation,
                )
            back = failures * (max_size // 2)
            log.warning(
                "%s: %s; re-reading further back (%d of %d)", operation, problem, failures, MAX_REREADS
            )
            continue
        numbers, fresh = _unseen(page.numbers, keys, recent)
        yield from numbers
        stats.numbers += len(fresh)
        recent.append(frozenset(keys))
        anchor, previous, end, back = frozenset(keys), (offset, keys), offset + len(keys), 0
        if end > frontier:
            frontier, failures = end, 0
        if len(keys) < size or (count is not None and offset + size >= count):
            return
    raise NexmoNumbersError(
        f"paging stopped after {max_pages} requests without reaching the end", operation=operation
    )


def _note_count(stats: PagingStats, count: int | None, operation: str) -> None:
    if count is None:
        return
    if stats.first_count is None:
        stats.first_count = count
    elif count != stats.last_count:
        stats.count_changes += 1
        log.info(
            "%s: the listing changed while paging (count %s -> %d); every page boundary is still checked",
            operation,
            stats.last_count,
            count,
        )
    stats.last_count = count
