"""Read every owned number page by page, with constant memory and progress a human can follow.

The exports page through `list_owned_numbers` themselves (instead of the hook's flat iterator) because each
page carries the account's total `count`: that is what turns "page 37" into "page 37 of 120, 2,400 numbers/s,
about 30 s left" without an extra request.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterator
from typing import Any

log = logging.getLogger(__name__)

MAX_PAGE_SIZE = 100  # the API's documented maximum for GET /account/numbers


class ExportProgress:
    """Counts pages and numbers; logs at most once per `interval` seconds (plus first page and end)."""

    def __init__(self, logger: logging.Logger | Any, interval: float = 10.0, what: str = "export") -> None:
        self.log = logger
        self.interval = max(0.0, float(interval))
        self.what = what
        self.started = time.monotonic()
        self._last_log = self.started
        self.pages = 0
        self.total_pages: int | None = None
        self.total_numbers: int | None = None
        self.numbers = 0

    @property
    def seconds(self) -> float:
        return time.monotonic() - self.started

    @property
    def rate(self) -> float:
        elapsed = self.seconds
        return self.numbers / elapsed if elapsed > 0 else 0.0

    def page_done(self, count: int | None, page_size: int, numbers_on_page: int) -> None:
        self.pages += 1
        self.numbers += numbers_on_page
        if count is not None:
            self.total_numbers = count
            self.total_pages = max(1, math.ceil(count / page_size)) if count else 0
        now = time.monotonic()
        if self.pages == 1 or now - self._last_log >= self.interval:
            self._last_log = now
            self.log.info("%s", self.describe())

    def describe(self) -> str:
        total_pages = "?" if self.total_pages is None else f"{self.total_pages:,}"
        total_numbers = "?" if self.total_numbers is None else f"{self.total_numbers:,}"
        line = (
            f"Nexmo numbers {self.what}: page {self.pages:,} of {total_pages}, "
            f"{self.numbers:,} of {total_numbers} numbers, {self.rate:,.0f} numbers/s"
        )
        if self.total_numbers and self.rate > 0 and self.numbers < self.total_numbers:
            line += f", about {(self.total_numbers - self.numbers) / self.rate:,.0f} s left"
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


def iter_owned_numbers(hook: Any, page_size: int, progress: ExportProgress) -> Iterator[Any]:
    """Yield every owned number, one page in memory at a time.

    Stops on an empty page, a short page, or once the pages cover the latest reported `count` (so no request
    is made for a page past the end). If the inventory shifts between two pages (a number bought meanwhile),
    the last numbers of the previous page can come again at the start of the next one: those repeats are
    skipped, so a snapshot never holds the same msisdn twice.
    """
    index = 1
    previous: set[str] = set()
    while True:
        page = hook.list_owned_numbers(size=page_size, index=index)
        numbers = list(page.numbers or [])
        count = page.count if page.count is not None else None
        fresh = [n for n in numbers if getattr(n, "msisdn", None) not in previous]
        progress.page_done(count, page_size, len(fresh))
        yield from fresh
        if not numbers or len(numbers) < page_size or (count is not None and index * page_size >= count):
            return
        previous = {getattr(n, "msisdn", None) for n in numbers}
        index += 1
