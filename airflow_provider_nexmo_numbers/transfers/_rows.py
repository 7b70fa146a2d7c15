"""One flat row per owned number: the column list and the snapshot every export stamps on its rows.

Both transfers (SQL and files) write the same columns in the same order, so a table loaded from a CSV and a
table written by the SQL operator can be compared or unioned. It imports nothing heavy:
operator modules load it at DAG parse time.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

# The features an owned number can carry; each gets a boolean column so "which numbers can take SMS" is a
# plain WHERE clause on any database, while `features` keeps the full list (canonical order, comma separated).
KNOWN_FEATURES: tuple[str, ...] = ("SMS", "VOICE", "MMS")


@dataclass(frozen=True)
class Column:
    """A column of the export: name, portable SQL type, nullability and what it holds (for the docs)."""

    name: str
    sql_type: str
    nullable: bool = True
    doc: str = ""


# Portable DDL types: VARCHAR(n), DATE and BOOLEAN are understood by SQLite, PostgreSQL, MySQL and most
# warehouses.
COLUMNS: tuple[Column, ...] = (
    Column("snapshot_id", "VARCHAR(250)", False, "Snapshot the row belongs to (default: the DAG run id)."),
    Column("snapshot_date", "DATE", False, "Date of the snapshot (the run's logical date, `ds`)."),
    Column("run_id", "VARCHAR(250)", True, "Airflow run id that wrote the row."),
    Column("country", "VARCHAR(8)", False, "ISO 3166-1 alpha-2 country of the number."),
    Column("msisdn", "VARCHAR(32)", False, "The number, E.164 digits without '+'."),
    Column("type", "VARCHAR(32)", True, "landline, landline-toll-free or mobile-lvn."),
    Column("features", "VARCHAR(64)", True, "Capabilities, canonical order, comma separated: 'SMS,VOICE'."),
    Column("has_sms", "BOOLEAN", False, "features contains SMS."),
    Column("has_voice", "BOOLEAN", False, "features contains VOICE."),
    Column("has_mms", "BOOLEAN", False, "features contains MMS."),
    Column("mo_http_url", "VARCHAR(2048)", True, "Inbound SMS webhook (moHttpUrl)."),
    Column("mo_smpp_sys_type", "VARCHAR(64)", True, "SMPP system type (moSmppSysType)."),
    Column("voice_callback_type", "VARCHAR(32)", True, "app, sip, tel, vxml (voiceCallbackType)."),
    Column("voice_callback_value", "VARCHAR(2048)", True, "Target of the voice callback."),
    Column("voice_status_callback", "VARCHAR(2048)", True, "Voice status webhook."),
    Column("messages_callback_type", "VARCHAR(32)", True, "Deprecated messages callback type."),
    Column("messages_callback_value", "VARCHAR(2048)", True, "Deprecated messages callback value."),
    Column("app_id", "VARCHAR(64)", True, "Application the number is linked to."),
)
COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in COLUMNS)
# Facts of the purchase ledger (`ledger.airflow.read_facts`), appended to each row with `ledger_facts=True`;
# NULL for numbers the ledger does not know (bought outside the provider).
LEDGER_COLUMNS: tuple[Column, ...] = (
    Column("bought_at", "VARCHAR(32)", True, "When the ledger recorded the purchase (ISO 8601, UTC)."),
    Column("monthly_cost", "VARCHAR(32)", True, "Monthly cost recorded at purchase (exact decimal text)."),
    Column("currency", "VARCHAR(8)", True, "Currency of monthly_cost."),
    Column("campaign", "VARCHAR(250)", True, "Campaign that bought (or holds) the number."),
    Column("owner", "VARCHAR(500)", True, "Task that bought it: dag_id/run_id/task_id/map_index."),
)
LEDGER_FACTS: tuple[str, ...] = tuple(c.name for c in LEDGER_COLUMNS)


def export_columns(ledger: bool = False) -> tuple[Column, ...]:
    """The columns of an export, with the ledger's facts at the end when asked for."""
    return COLUMNS + LEDGER_COLUMNS if ledger else COLUMNS


def with_ledger_facts(
    build: Callable[[Any], tuple[Any, ...]], facts: Mapping[str, Mapping[str, Any]]
) -> Callable[[Any], tuple[Any, ...]]:
    """`build` (a `row_builder`) with the ledger's facts of each row's msisdn appended (LEDGER_FACTS
    order, text or None). `facts` is what `read_facts()` returned: one dict lookup per row."""
    empty = (None,) * len(LEDGER_FACTS)
    joined = {
        str(msisdn): tuple(None if fact.get(name) is None else str(fact[name]) for name in LEDGER_FACTS)
        for msisdn, fact in facts.items()
    }
    at = COLUMN_NAMES.index("msisdn")

    def build_joined(number: Any) -> tuple[Any, ...]:
        row = build(number)
        return row + joined.get(row[at], empty)

    return build_joined


# The fields of an owned number (OwnedNumber.to_dict() names) copied verbatim into their columns.
NUMBER_FIELDS: tuple[str, ...] = (
    "country",
    "msisdn",
    "type",
    "mo_http_url",
    "mo_smpp_sys_type",
    "voice_callback_type",
    "voice_callback_value",
    "voice_status_callback",
    "messages_callback_type",
    "messages_callback_value",
    "app_id",
)


# Fields that may hold a URL with credentials (`https://user:pw@host/...`, set outside this provider):
# exported as `https://***@host/...` (issue 11: an export is read by more people than the account's owners).
URL_FIELDS: frozenset[str] = frozenset(
    {"mo_http_url", "voice_callback_value", "voice_status_callback", "messages_callback_value"}
)


def redact_url() -> Callable[[str | None], str | None]:
    """The client's `redact_url` (imported when an export runs, not when a DAG file is parsed)."""
    from airflow_provider_nexmo_numbers.client.validation import redact_url as redact

    return redact


@dataclass(frozen=True)
class Snapshot:
    """What makes an export idempotent: its id (rows are replaced per id), date and writing run."""

    snapshot_id: str
    snapshot_date: dt.date
    run_id: str | None


def resolve_snapshot(
    context: Mapping[str, Any], snapshot_id: str | None, snapshot_date: str | dt.date | None
) -> Snapshot:
    """Derive the snapshot from the task context; explicit arguments win.

    The id defaults to the run id, so a retry or a manual re-run of the same DAG run replaces its own rows.
    The date defaults to the run's logical date (`ds`); runs without one (Airflow 3 manual or
    asset-triggered runs) fall back to the run's `run_after`, then to today in UTC.
    """
    run_id = context.get("run_id")
    if not snapshot_id:
        if run_id:
            snapshot_id = str(run_id)
        else:
            # Only outside a DAG run (e.g. `op.execute({})` in a notebook): nothing stable to key on.
            snapshot_id = "adhoc__" + dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")
            log.warning("No run_id in the context and no snapshot_id given: using %s", snapshot_id)
    return Snapshot(str(snapshot_id), _snapshot_date(context, snapshot_date), str(run_id) if run_id else None)


def _snapshot_date(context: Mapping[str, Any], value: str | dt.date | None) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if value:
        try:
            return dt.date.fromisoformat(str(value)[:10])
        except ValueError:
            raise ValueError(f"snapshot_date: must be an ISO date YYYY-MM-DD, got {value!r}") from None
    if context.get("ds"):
        return dt.date.fromisoformat(str(context["ds"]))
    for key in ("logical_date", "data_interval_end"):
        if isinstance(context.get(key), dt.datetime):
            return context[key].date()
    run_after = getattr(context.get("dag_run"), "run_after", None)
    if isinstance(run_after, dt.datetime):
        return run_after.date()
    return dt.datetime.now(dt.timezone.utc).date()


def number_row(number: Any, snapshot: Snapshot) -> tuple[Any, ...]:
    """Flatten one owned number (model, its `to_dict()`, or such a dict) into a row in COLUMN_NAMES order.

    `features` is a list and `snapshot_date` a date here; `features_text()` and `isoformat()` make the text
    forms used by SQL and CSV. Exports build rows with `row_builder`, which is the same thing made cheap.
    """
    if isinstance(number, Mapping):
        data: Mapping[str, Any] = number
    elif hasattr(number, "to_dict"):
        data = number.to_dict()
    else:
        data = {name: getattr(number, name, None) for name in (*NUMBER_FIELDS, "features")}
    redact = redact_url()
    features = [str(f).upper() for f in (data.get("features") or [])]
    fields = [None if data.get(name) is None else str(data.get(name)) for name in NUMBER_FIELDS]
    fields = [redact(v) if name in URL_FIELDS else v for name, v in zip(NUMBER_FIELDS, fields, strict=True)]
    return (
        snapshot.snapshot_id,
        snapshot.snapshot_date,
        snapshot.run_id,
        *fields[:3],
        features,
        *(feature in features for feature in KNOWN_FEATURES),
        *fields[3:],
    )


def number_record(number: Any, snapshot: Snapshot) -> dict[str, Any]:
    """`number_row` as a dict keyed by COLUMN_NAMES (for callers that want names)."""
    return dict(zip(COLUMN_NAMES, number_row(number, snapshot), strict=True))


def row_builder(snapshot: Snapshot, *, text: bool = False) -> Callable[[Any], tuple[Any, ...]]:
    """A function number -> row, what `number_row` gives, built straight from an `OwnedNumber`'s attributes
    (no `to_dict()`, no dict copies): the export runs it for every number.

    With `text=True` the row is ready for a SQL INSERT: features as 'SMS,VOICE' text and the date as ISO
    text (drivers cast it). Anything that is not an `OwnedNumber` goes through `number_row`.
    """
    from airflow_provider_nexmo_numbers.client.models import OwnedNumber

    redact = redact_url()
    date: Any = snapshot.snapshot_date.isoformat() if text else snapshot.snapshot_date
    head = (snapshot.snapshot_id, date, snapshot.run_id)

    def generic(number: Any) -> tuple[Any, ...]:
        row = number_row(number, snapshot)
        return (*head, *row[3:6], features_text(row[6]), *row[7:]) if text else row

    # An OwnedNumber's text fields are str or None and its features a canonical upper-case list, so the
    # conversions number_row makes would change nothing.
    def build(number: Any) -> tuple[Any, ...]:
        if type(number) is not OwnedNumber:
            return generic(number)
        features = number.features
        return (
            *head,
            number.country,
            number.msisdn,
            number.type,
            ",".join(features) if text else list(features),
            "SMS" in features,
            "VOICE" in features,
            "MMS" in features,
            redact(number.mo_http_url),
            number.mo_smpp_sys_type,
            number.voice_callback_type,
            redact(number.voice_callback_value),
            redact(number.voice_status_callback),
            number.messages_callback_type,
            redact(number.messages_callback_value),
            number.app_id,
        )

    return build


def features_text(features: list[str]) -> str:
    """Comma-separated features ('SMS,VOICE'), the queryable text form for SQL and CSV."""
    return ",".join(features)


# The row layout the builders above rely on (a test checks it against COLUMN_NAMES).
ROW_LAYOUT: tuple[str, ...] = (
    "snapshot_id",
    "snapshot_date",
    "run_id",
    *NUMBER_FIELDS[:3],
    "features",
    *(f"has_{feature.lower()}" for feature in KNOWN_FEATURES),
    *NUMBER_FIELDS[3:],
)
