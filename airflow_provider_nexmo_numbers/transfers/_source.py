"""Read every owned number page by page, with constant memory, a proven-complete listing and progress a human
can follow.

The read is the client's consistent paging (`iter_numbers(consistent=True)`): pages of up to 100 that overlap
by one number, so a listing that moves under the export (numbers bought or released meanwhile, even with the
count unchanged) is re-read or fails the task, never exported with a number silently missing. The first
page's `count` gives the estimate logged before the bulk of the work (numbers, requests, the client's pace,
ETA); later lines say how far it got.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

log = logging.getLogger(__name__)

MAX_PAGE_SIZE = 100  # the API's documented maximum for GET /account/numbers


class ExportProgress:
    """Counts requests and numbers; logs the estimate after the first page, then at most every `interval`
    seconds, and a summary at the end.

    `pace` is the client's request rate (requests/s, None when unpaced or unknown), or a function giving it,
    asked once the first page has arrived (a quota-aware client knows its quota from that response's
    headers); `planned(count)` is how many requests a listing of `count` numbers takes.
    """

    def __init__(
        self,
        logger: logging.Logger | Any,
        interval: float = 10.0,
        what: str = "export",
        *,
        pace: float | Callable[[], float | None] | None = None,
        planned: Any = None,
        stats: Any = None,
    ) -> None:
        self.log = logger
        self.interval = max(0.0, float(interval))
        self.what = what
        self._pace = pace
        self.pace: float | None = None if callable(pace) else pace
        self._planned = planned or (lambda count: -(-count // MAX_PAGE_SIZE) or 1)
        self.started = time.monotonic()
        self._last_log = self.started
        self.pages = 0  # requests made (pages fetched, re-reads included)
        self.total_pages: int | None = None
        self.total_numbers: int | None = None
        self.stats = stats  # the paging's own counts (numbers yielded, duplicates of the overlap excluded)
        self._read = 0

    @property
    def seconds(self) -> float:
        return time.monotonic() - self.started

    @property
    def numbers(self) -> int:
        """Distinct numbers so far (from the paging's stats when given, else numbers on fetched pages)."""
        return self.stats.numbers if self.stats is not None else self._read

    @property
    def rate(self) -> float:
        elapsed = self.seconds
        return self.numbers / elapsed if elapsed > 0 else 0.0

    def page_fetched(self, count: int | None, page_size: int, numbers_on_page: int) -> None:
        """A page arrived; `count` is the account's total as that page reported it (None: not reported)."""
        self.pages += 1
        self._read += numbers_on_page
        if count is not None and (count or self.pages == 1):  # a page past the end reports count 0
            self.total_numbers = count
            self.total_pages = self._planned(count)
        now = time.monotonic()
        if self.pages == 1:
            if callable(self._pace):
                self.pace = self._pace()
            self._last_log = now
            self.log.info("%s", self.estimate())
        elif now - self._last_log >= self.interval:
            self._last_log = now
            self.log.info("%s", self.describe())

    def estimate(self) -> str:
        """The plan, from the first page: how many numbers, requests, at what pace, about how long."""
        if self.total_numbers is None:
            return (
                f"Nexmo numbers {self.what}: the API gave no count, so the size is unknown; reading pages of "
                f"up to {MAX_PAGE_SIZE} until the end ({self._pace_text()})"
            )
        line = (
            f"Nexmo numbers {self.what}: {self.total_numbers:,} numbers in about {self.total_pages:,} "
            f"requests (pages of up to {MAX_PAGE_SIZE}, overlapping by one to prove none is skipped), "
            f"{self._pace_text()}"
        )
        if self.pace:
            line += f", ETA about {_duration(self.total_pages / self.pace)}"
        return line

    def _pace_text(self) -> str:
        return f"pace {self.pace:g} requests/s" if self.pace else "pace not limited by the client"

    def describe(self) -> str:
        total_pages = "?" if self.total_pages is None else f"{self.total_pages:,}"
        total_numbers = "?" if self.total_numbers is None else f"{self.total_numbers:,}"
        line = (
            f"Nexmo numbers {self.what}: page {self.pages:,} of {total_pages}, "
            f"{self.numbers:,} of {total_numbers} numbers, {self.rate:,.0f} numbers/s"
        )
        if self.total_numbers and self.rate > 0 and self.numbers < self.total_numbers:
            line += f", about {_duration((self.total_numbers - self.numbers) / self.rate)} left"
        return line

    def finished(self) -> None:
        self.log.info(
            "Nexmo numbers %s finished: %s numbers from %s pages in %.1f s (%s numbers/s)",
            self.what,
            f"{self.numbers:,}",
            f"{self.pages:,}",
            self.seconds,
            f"{self.rate:,.0f}",
        )


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:,.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:,.0f} min"
    return f"{seconds / 3600:,.1f} h"


def client_pace(client: Any) -> float | None:
    """The client's current pace in requests/s: its `request_rate` (its share of the quota the API states,
    or its `rate_limit`); None while unknown or with pacing disabled."""
    rate = getattr(client, "request_rate", None)
    try:
        return float(rate) if rate else None
    except (TypeError, ValueError):
        return None


def iter_owned_numbers(
    hook: Any, progress: ExportProgress, *, consistent: bool = True, stats: Any = None
) -> Iterator[Any]:
    """Yield every owned number, one page in memory at a time, reporting each page to `progress`.

    The paging itself (overlap checks, re-reads, a server ignoring `index`) is the client's `iter_numbers`;
    this only wraps its page fetch, which is where `count` is seen.
    """
    from airflow_provider_nexmo_numbers.client.paging import iter_numbers

    def fetch_page(index: int, size: int) -> Any:
        page = hook.list_owned_numbers(size=size, index=index)
        given = getattr(page, "count_given", True)
        progress.page_fetched(page.count if given else None, size, len(page.numbers))
        return page

    return iter_numbers(
        fetch_page,
        page_size=MAX_PAGE_SIZE,
        operation="GET /account/numbers",
        consistent=consistent,
        stats=stats,
    )
