"""NexmoNumbersToFileOperator: every owned number into one CSV, JSON Lines or Parquet file, atomically.

Why it is shaped like this:
- Streaming: numbers flow page by page into the writer (Parquet: one row group per batch); memory does not
  grow with the account.
- Atomic: the data goes to a temporary file (or object) next to the target and is renamed (moved) into place
  only after the last row, so a failed run leaves the previous file as it was and never a half file.
- Local paths and Airflow ObjectStoragePath (s3://, gs://, file://...) alike; the path is templated.
- Cheap to parse: no client, hook, pyarrow or object-storage code is imported until execute().
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_provider_nexmo_numbers.transfers._base import ExportOperatorBase
from airflow_provider_nexmo_numbers.transfers._validate import is_templated
from airflow_provider_nexmo_numbers.transfers._writers import (
    EXTENSIONS,
    FORMATS,
    PARQUET_MISSING,
    open_writer,
)

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context
    from airflow.sdk import Asset, ObjectStoragePath


class NexmoNumbersToFileOperator(ExportOperatorBase):
    """Export every owned number to a CSV, JSON Lines or Parquet file, replacing the target atomically.

    :param path: target file: an absolute local path, a URL such as ``s3://bucket/numbers/{{ ds }}.parquet``
        or ``file:///data/numbers.csv``, or an ``airflow.sdk.ObjectStoragePath``. Templated.
    :param format: ``csv``, ``jsonl`` or ``parquet``; inferred from the path's extension when omitted
        (``.csv``, ``.jsonl``/``.ndjson``, ``.parquet``). Parquet needs pyarrow (extra ``[parquet]``).
    :param storage_conn_id: connection for the object store of a URL ``path`` (e.g. an ``aws`` connection).
    :param nexmo_conn_id: the ``nexmo_numbers`` connection to read from.
    :param snapshot_id: stamped on every row; defaults to the DAG run id. Templated.
    :param snapshot_date: stamped on every row (ISO ``YYYY-MM-DD``); defaults to ``ds``. Templated.
    :param batch_size: rows per Parquet row group (and per writer batch).
    :param page_size: deprecated and ignored: exports always read pages of up to 100 (the API's maximum).
    :param asset: the Asset this task produces (an ``Asset`` or its URI). Defaults to the file's URI when the
        path is not templated. Ignored when ``outlets`` is given.
    :param progress_interval: seconds between progress log lines.
    :param verify_listing: read with overlapping pages that prove no number was skipped while the listing
        changed (default; about 12-14% more requests on large accounts). ``False`` reads plain pages of 100
        and cannot see a change that leaves the count unchanged.
    :param ledger_facts: append the purchase ledger's facts to each row (columns ``bought_at``,
        ``monthly_cost``, ``currency``, ``campaign``, ``owner``; NULL for numbers it does not know). Off by
        default. A configured ledger that cannot be read fails the task before any request.
    :param ledger_conn_id: the ledger's connection (default ``nexmo_numbers_ledger``, else the SQLite file
        under ``AIRFLOW_HOME``).

    Returns (XCom) ``{"rows", "path", "format", "snapshot_id", "snapshot_date", "pages", "rereads",
    "seconds"}`` (``pages``: requests made; ``rereads``: pages read again because the listing moved).
    """

    template_fields: Sequence[str] = (
        "path",
        "storage_conn_id",
        "nexmo_conn_id",
        "snapshot_id",
        "snapshot_date",
    )

    def __init__(
        self,
        *,
        path: str | os.PathLike[str] | ObjectStoragePath,
        format: str | None = None,
        storage_conn_id: str | None = None,
        nexmo_conn_id: str = "nexmo_numbers_default",
        snapshot_id: str | None = None,
        snapshot_date: str | None = None,
        batch_size: int = 10_000,
        page_size: int | None = None,
        asset: Asset | str | None = None,
        progress_interval: float = 10.0,
        verify_listing: bool = True,
        ledger_facts: bool = False,
        ledger_conn_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        if isinstance(path, PurePath):
            path = str(path)
        if not is_templated(path):
            _check_path(path)
        fmt = _resolve_format(format, path)
        super().__init__(
            nexmo_conn_id=nexmo_conn_id,
            snapshot_id=snapshot_id,
            snapshot_date=snapshot_date,
            batch_size=batch_size,
            page_size=page_size,
            asset=asset,
            derive_asset=lambda: _file_asset(path),
            progress_interval=progress_interval,
            verify_listing=verify_listing,
            ledger_facts=ledger_facts,
            ledger_conn_id=ledger_conn_id,
            **kwargs,
        )
        self.path = path
        self.format = fmt
        self.storage_conn_id = storage_conn_id

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_nexmo_numbers.transfers._atomic import atomic_write

        target, snapshot = self.resolve_rendered(context, lambda: _target(self.path, self.storage_conn_id))
        if self.format == "parquet":
            _require_pyarrow()
        shown = str(target)
        self.log.info(
            "Exporting owned numbers to %s (%s), snapshot %s of %s",
            shown,
            self.format,
            snapshot.snapshot_id,
            snapshot.snapshot_date,
        )

        def write(rows_in: Iterator[tuple[Any, ...]]) -> int:
            rows = 0
            with atomic_write(target) as fh:
                writer = open_writer(self.format, fh, self.batch_size, self.column_names)
                try:
                    for row in rows_in:
                        writer.write(row)
                        rows += 1
                except BaseException:
                    writer.abort()
                    raise
                writer.close()
            return rows

        rows, report = self.stream(snapshot, shown, write)
        return {"rows": rows, "path": shown, "format": self.format, **report}


def _check_path(path: Any) -> None:
    """Refuse what cannot be a safe target. A `..` segment is refused rather than normalised: a templated
    path such as `/data/{{ params.team }}/numbers.csv` rendered with `../etc` must not write elsewhere."""
    if hasattr(path, "fs"):  # an ObjectStoragePath
        _refuse_parent_segments(str(path))
        return
    if not isinstance(path, str) or not path.strip():
        raise ValueError(f"path: must be a non-empty path or URL, got {path!r}")
    if path.endswith(("/", os.sep)):
        raise ValueError(f"path: must name a file, not a directory, got {path!r}")
    if "://" not in path and not os.path.isabs(path):
        raise ValueError(
            f"path: a local path must be absolute (a worker's working directory means nothing), got {path!r}"
        )
    _refuse_parent_segments(path)


def _refuse_parent_segments(path: str) -> None:
    if ".." in re.split(r"[/\\]", path):
        raise ValueError(f"path: must not contain '..' segments (write the resolved path), got {path!r}")


def _target(path: Any, storage_conn_id: str | None) -> Any:
    """A local Path for plain paths; an ObjectStoragePath for URLs (imported late: it pulls in fsspec)."""
    _check_path(path)
    if hasattr(path, "fs"):
        return path
    if "://" in path:
        from airflow.sdk import ObjectStoragePath

        return ObjectStoragePath(path, conn_id=storage_conn_id)
    from pathlib import Path

    return Path(path)


def _resolve_format(fmt: str | None, path: Any) -> str:
    if fmt is None:
        source = path if isinstance(path, str) else getattr(path, "path", "")  # an XComArg has no suffix
        suffix = PurePath(source).suffix.lower()
        if suffix not in EXTENSIONS:
            raise ValueError(
                f"format: must be one of {', '.join(FORMATS)}; it cannot be inferred from the path's "
                f"extension {suffix or '(none)'!r}, so pass format= explicitly"
            )
        return EXTENSIONS[suffix]
    if not isinstance(fmt, str) or fmt.lower() not in FORMATS:
        raise ValueError(f"format: must be one of {', '.join(FORMATS)}, got {fmt!r}")
    return fmt.lower()


def _require_pyarrow() -> None:
    try:
        import pyarrow
        import pyarrow.parquet  # noqa: F401
    except ImportError as err:
        raise AirflowFailException(PARQUET_MISSING) from err


def _file_asset(path: Any) -> Asset | None:
    """The outlet downstream DAGs schedule on: the file's own URI, when the path is known at parse time."""
    from airflow.sdk import Asset

    if is_templated(path):
        return None
    if hasattr(path, "fs") or "://" in path:
        return Asset(str(path))
    return Asset(PurePath(path).as_uri() if os.path.isabs(path) else f"file://{path}")
