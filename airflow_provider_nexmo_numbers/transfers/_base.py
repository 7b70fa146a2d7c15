"""What the file and SQL exports share: arguments, the default outlet, and the streaming run around a writer.

Each export only knows its target (validate it, write records into it); reading the account page by page,
stamping the snapshot, logging progress and closing the API session are done once, here. Cheap to parse, like
the operators: no client, hook or asset code is imported until it is needed.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from airflow.providers.common.compat.sdk import AirflowFailException, BaseOperator

from airflow_provider_nexmo_numbers.transfers._rows import row_builder
from airflow_provider_nexmo_numbers.transfers._source import (
    MAX_PAGE_SIZE,
    ExportProgress,
    client_pace,
    iter_owned_numbers,
)
from airflow_provider_nexmo_numbers.transfers._validate import check_non_negative, check_positive_int

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context
    from airflow.sdk import Asset

    from airflow_provider_nexmo_numbers.hooks.nexmo_numbers import NexmoNumbersHook
    from airflow_provider_nexmo_numbers.transfers._rows import Snapshot

T = TypeVar("T")


class ExportOperatorBase(BaseOperator):
    """Base of the exports: see `NexmoNumbersToFileOperator` / `NexmoNumbersToSqlOperator` for the arguments.

    `asset` (an Asset or its URI) becomes the outlet; without it, `derive_asset()` may derive one from a
    target known at parse time. Neither applies when `outlets` is given.
    """

    ui_color = "#c9e4ff"

    def __init__(
        self,
        *,
        nexmo_conn_id: str = "nexmo_numbers_default",
        snapshot_id: str | None = None,
        snapshot_date: str | None = None,
        batch_size: int = 1000,
        page_size: int | None = None,
        asset: Asset | str | None = None,
        derive_asset: Callable[[], Asset | None] = lambda: None,
        progress_interval: float = 10.0,
        verify_listing: bool = True,
        **kwargs: Any,
    ) -> None:
        check_positive_int("batch_size", batch_size)
        if page_size is not None:
            check_positive_int("page_size", page_size, maximum=MAX_PAGE_SIZE)
            warnings.warn(
                f"page_size is deprecated and ignored: exports always read pages of up to {MAX_PAGE_SIZE}, "
                "the API's maximum (fewer numbers per request only makes an export slower at the same quota)",
                DeprecationWarning,
                stacklevel=3,
            )
        check_non_negative("progress_interval", progress_interval)
        if not isinstance(verify_listing, bool):
            raise ValueError(f"verify_listing: must be True or False, got {verify_listing!r}")
        if "outlets" not in kwargs:
            outlet = derive_asset() if asset is None else _given_asset(asset)
            if outlet is not None:
                kwargs["outlets"] = [outlet]
        super().__init__(**kwargs)
        self.nexmo_conn_id = nexmo_conn_id
        self.snapshot_id = snapshot_id
        self.snapshot_date = snapshot_date
        self.batch_size = batch_size
        self.page_size = MAX_PAGE_SIZE
        self.progress_interval = progress_interval
        self.verify_listing = verify_listing

    @cached_property
    def hook(self) -> NexmoNumbersHook:
        from airflow_provider_nexmo_numbers.hooks.nexmo_numbers import NexmoNumbersHook

        return NexmoNumbersHook(nexmo_conn_id=self.nexmo_conn_id)

    def resolve_rendered(self, context: Context, target: Callable[[], T]) -> tuple[T, Snapshot]:
        """The rendered target (`target()` validates it) and the snapshot; bad values fail without retries."""
        from airflow_provider_nexmo_numbers.transfers._rows import resolve_snapshot

        try:
            return target(), resolve_snapshot(context, self.snapshot_id, self.snapshot_date)
        except ValueError as err:  # a rendered template is invalid: retrying cannot help
            raise AirflowFailException(str(err)) from err

    def stream(
        self,
        snapshot: Snapshot,
        shown: str,
        write: Callable[[Iterator[tuple[Any, ...]]], T],
        *,
        text: bool = False,
    ) -> tuple[T, dict[str, Any]]:
        """`write(rows)` over every owned number, page by page (rows in COLUMN_NAMES order; `text=True`
        gives SQL-ready rows, see `row_builder`); returns what it returns and the run's report (snapshot,
        pages, seconds). The API session is closed afterwards either way."""
        from airflow_provider_nexmo_numbers.client.paging import PagingStats, planned_requests

        stats = PagingStats()
        progress = ExportProgress(
            self.log,
            self.progress_interval,
            what=f"export to {shown}",
            pace=lambda: client_pace(self.hook.get_conn()),
            planned=planned_requests if self.verify_listing else None,
            stats=stats,
        )
        numbers = iter_owned_numbers(self.hook, progress, consistent=self.verify_listing, stats=stats)
        try:
            written = write(map(row_builder(snapshot, text=text), numbers))
        finally:
            self.hook.close()  # the HTTP session; nothing else reuses it
        progress.finished()
        return written, {
            "snapshot_id": snapshot.snapshot_id,
            "snapshot_date": snapshot.snapshot_date.isoformat(),
            "pages": progress.pages,
            "rereads": stats.rereads,
            "seconds": round(progress.seconds, 3),
        }


def _given_asset(asset: Any) -> Asset:
    from airflow.sdk import Asset

    if isinstance(asset, Asset):
        return asset
    if isinstance(asset, str) and asset:
        return Asset(asset)
    raise ValueError(f"asset: must be an airflow.sdk.Asset or a URI string, got {asset!r}")
