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

from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException, BaseOperator

from airflow_provider_nexmo_numbers.transfers._rows import (
    Column,
    export_columns,
    row_builder,
    with_ledger_facts,
)
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
        ledger_facts: bool = False,
        ledger_conn_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        check_positive_int("batch_size", batch_size)
        if not isinstance(ledger_facts, bool):
            raise ValueError(f"ledger_facts: must be True or False, got {ledger_facts!r}")
        if ledger_conn_id is not None and (not isinstance(ledger_conn_id, str) or not ledger_conn_id):
            raise ValueError(
                f"ledger_conn_id: must be a non-empty connection id or None, got {ledger_conn_id!r}"
            )
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
        self.ledger_facts = ledger_facts
        self.ledger_conn_id = ledger_conn_id

    @property
    def export_columns(self) -> tuple[Column, ...]:
        """The columns this export writes: the inventory's, plus the ledger's facts when asked for."""
        return export_columns(self.ledger_facts)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.export_columns)

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
        build = row_builder(snapshot, text=text)
        if self.ledger_facts:
            build = with_ledger_facts(build, self._read_ledger_facts())
        numbers = iter_owned_numbers(self.hook, progress, consistent=self.verify_listing, stats=stats)
        try:
            written = write(map(build, numbers))
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

    def _read_ledger_facts(self) -> dict[str, dict[str, Any]]:
        """Every fact the ledger holds (it knows the numbers bought through the provider, so this is small
        beside the account), read once before the first request; a configured ledger that is down fails the
        export rather than writing empty ledger columns."""
        from airflow_provider_nexmo_numbers.ledger.airflow import DEFAULT_LEDGER_CONN_ID, read_facts
        from airflow_provider_nexmo_numbers.ledger.core import LedgerError

        conn_id = self.ledger_conn_id or DEFAULT_LEDGER_CONN_ID
        try:
            facts = read_facts(ledger_conn_id=conn_id)
        except LedgerError as err:
            raise AirflowException(
                f"ledger_facts: the ledger ({conn_id!r}) could not be read, so its columns would be "
                f"empty: {err}"
            ) from err
        self.log.info(
            "Joining the ledger's facts (%d numbers known to ledger %s) onto the rows", len(facts), conn_id
        )
        return facts


def _given_asset(asset: Any) -> Asset:
    from airflow.sdk import Asset

    if isinstance(asset, Asset):
        return asset
    if isinstance(asset, str) and asset:
        return Asset(asset)
    raise ValueError(f"asset: must be an airflow.sdk.Asset or a URI string, got {asset!r}")
