"""NexmoNumbersToSqlOperator: a nightly snapshot of every owned number into a table of any SQL database.

Why it is shaped like this:
- Any Airflow SQL connection works: the connection's own hook (a common.sql `DbApiHook`) supplies the DB-API
  connection and the placeholder style; the SQL itself is plain portable DDL/DML.
- Idempotent per snapshot: one transaction deletes the snapshot's rows and inserts the new ones, so a retry or
  a re-run of the same DAG run replaces its rows instead of duplicating them, and a failure halfway rolls back
  to the previous rows of that snapshot.
- Streaming: numbers flow page by page into the load; memory does not grow with the account.
- PostgreSQL (through Airflow's PostgresHook) loads with `COPY ... FROM STDIN` on the connection's own
  driver, psycopg 3 or psycopg2 (`_pg_copy`), in the same transaction; every other database gets portable
  `executemany` batches (`load_method="insert"` forces those on PostgreSQL too).
- Cheap to parse: no client, hook or database driver is imported until execute().
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import closing
from itertools import islice
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_provider_nexmo_numbers.transfers._base import ExportOperatorBase
from airflow_provider_nexmo_numbers.transfers._rows import COLUMNS, Column, features_text
from airflow_provider_nexmo_numbers.transfers._validate import check_identifier, is_templated

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context
    from airflow.providers.common.sql.hooks.sql import DbApiHook
    from airflow.sdk import Asset

DEFAULT_TABLE = "nexmo_owned_numbers"
LOAD_METHODS = ("auto", "copy", "insert")
ASSET_SCHEME = "nexmo-numbers"


def create_table_sql(qualified_table: str, columns: Sequence[Column] = COLUMNS) -> str:
    """Portable DDL (SQLite, PostgreSQL, MySQL...); the primary key forbids duplicates per snapshot."""
    columns = ",\n  ".join(f"{c.name} {c.sql_type}{'' if c.nullable else ' NOT NULL'}" for c in columns)
    return (
        f"CREATE TABLE IF NOT EXISTS {qualified_table} (\n  {columns},\n"
        f"  PRIMARY KEY (snapshot_id, msisdn)\n)"
    )


def sql_row(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """Parameters of one INSERT from a `number_row`: features as 'SMS,VOICE' text, the date as ISO text
    (drivers cast it). The export itself builds these directly (`row_builder(text=True)`)."""
    return (row[0], row[1].isoformat(), *row[2:6], features_text(row[6]), *row[7:])


class NexmoNumbersToSqlOperator(ExportOperatorBase):
    """Export every owned number into a SQL table, replacing the rows of this snapshot in one transaction.

    :param sql_conn_id: any Airflow connection whose hook is a common.sql ``DbApiHook`` (sqlite, postgres...).
    :param table: target table; ``"schema.table"`` is accepted. Created when missing (see ``create_table``).
        Templated. Must be a plain identifier (letters, digits, underscores).
    :param schema: schema of the table, if not given in ``table``. Templated.
    :param nexmo_conn_id: the ``nexmo_numbers`` connection to read from.
    :param snapshot_id: key of the snapshot; its rows are replaced on every run. Defaults to the DAG run id.
        Templated.
    :param snapshot_date: date stamped on the rows (ISO ``YYYY-MM-DD``); defaults to the logical date
        (``ds``). Templated.
    :param batch_size: rows per ``executemany`` call (psycopg2 COPY: rows per COPY chunk).
    :param load_method: ``"auto"`` (default: COPY on PostgreSQL, ``executemany`` elsewhere), ``"copy"``
        (PostgreSQL only; fails otherwise) or ``"insert"`` (portable ``executemany`` on any database).
    :param page_size: deprecated and ignored: exports always read pages of up to 100 (the API's maximum).
    :param create_table: run ``CREATE TABLE IF NOT EXISTS`` first. Turn off if the table is managed elsewhere.
    :param hook_params: extra keyword arguments for the SQL hook (as in common.sql operators).
    :param asset: the Asset this task produces (an ``Asset`` or its URI). Defaults to
        ``nexmo-numbers://<sql_conn_id>/<schema.table>`` when the table is not templated. Ignored when
        ``outlets`` is given.
    :param progress_interval: seconds between progress log lines.
    :param verify_listing: read with overlapping pages that prove no number was skipped while the listing
        changed (default; about 12-14% more requests on large accounts). ``False`` reads plain pages of 100
        and cannot see a change that leaves the count unchanged.
    :param ledger_facts: append the purchase ledger's facts to each row (columns ``bought_at``,
        ``monthly_cost``, ``currency``, ``campaign``, ``owner``; NULL for numbers it does not know). Off by
        default. A configured ledger that cannot be read fails the task before any request.
    :param ledger_conn_id: the ledger's connection (default ``nexmo_numbers_ledger``, else the SQLite file
        under ``AIRFLOW_HOME``).

    Returns (XCom) ``{"rows", "table", "snapshot_id", "snapshot_date", "pages", "rereads", "seconds",
    "deleted", "load"}`` (``pages``: requests made; ``rereads``: pages read again because the listing
    moved; ``load``: ``"copy"`` or ``"insert"``).
    """

    template_fields: Sequence[str] = (
        "sql_conn_id",
        "table",
        "schema",
        "nexmo_conn_id",
        "snapshot_id",
        "snapshot_date",
    )

    def __init__(
        self,
        *,
        sql_conn_id: str,
        table: str = DEFAULT_TABLE,
        schema: str | None = None,
        nexmo_conn_id: str = "nexmo_numbers_default",
        snapshot_id: str | None = None,
        snapshot_date: str | None = None,
        batch_size: int = 1000,
        page_size: int | None = None,
        create_table: bool = True,
        load_method: str = "auto",
        hook_params: dict[str, Any] | None = None,
        asset: Asset | str | None = None,
        progress_interval: float = 10.0,
        verify_listing: bool = True,
        ledger_facts: bool = False,
        ledger_conn_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        if not sql_conn_id or not isinstance(sql_conn_id, str):
            raise ValueError(f"sql_conn_id: must be a non-empty connection id, got {sql_conn_id!r}")
        if load_method not in LOAD_METHODS:
            raise ValueError(f"load_method: must be one of {', '.join(LOAD_METHODS)}, got {load_method!r}")
        # Validate whatever is already final; templated parts are checked again after rendering.
        _split_table(table, schema, partial=True)
        super().__init__(
            nexmo_conn_id=nexmo_conn_id,
            snapshot_id=snapshot_id,
            snapshot_date=snapshot_date,
            batch_size=batch_size,
            page_size=page_size,
            asset=asset,
            derive_asset=lambda: _sql_asset(sql_conn_id, table, schema),
            progress_interval=progress_interval,
            verify_listing=verify_listing,
            ledger_facts=ledger_facts,
            ledger_conn_id=ledger_conn_id,
            **kwargs,
        )
        self.sql_conn_id = sql_conn_id
        self.table = table
        self.schema = schema
        self.create_table = create_table
        self.load_method = load_method
        self.hook_params = hook_params or {}

    def get_db_hook(self) -> DbApiHook:
        """The connection's own hook; it must be a common.sql DbApiHook (that is what makes it portable)."""
        from airflow.providers.common.compat.sdk import BaseHook
        from airflow.providers.common.sql.hooks.sql import DbApiHook

        db_hook = BaseHook.get_connection(self.sql_conn_id).get_hook(hook_params=self.hook_params)
        if not isinstance(db_hook, DbApiHook):
            raise AirflowFailException(
                f"sql_conn_id: connection {self.sql_conn_id!r} gives a {type(db_hook).__name__}, "
                "which is not a common.sql DbApiHook; use a SQL database connection"
            )
        return db_hook

    def execute(self, context: Context) -> dict[str, Any]:
        qualified, snapshot = self.resolve_rendered(
            context, lambda: ".".join(_split_table(self.table, self.schema))
        )
        db_hook = self.get_db_hook()
        self.log.info(
            "Exporting owned numbers to %s (connection %s), snapshot %s of %s",
            qualified,
            self.sql_conn_id,
            snapshot.snapshot_id,
            snapshot.snapshot_date,
        )
        (rows, deleted, load), report = self.stream(
            snapshot,
            qualified,
            lambda rows: self._write(db_hook, qualified, snapshot.snapshot_id, rows),
            text=True,
        )
        return {"rows": rows, "table": qualified, **report, "deleted": deleted, "load": load}

    def _write(
        self,
        db_hook: DbApiHook,
        qualified: str,
        snapshot_id: str,
        params: Iterable[tuple[Any, ...]],
    ) -> tuple[int, int, str]:
        """Delete this snapshot's rows and load the new ones (INSERT parameters, see `sql_row`) in one
        transaction; roll back on any error. Returns (rows, deleted, "copy" or "insert")."""
        from airflow_provider_nexmo_numbers.transfers._pg_copy import copy_driver, copy_rows

        placeholder = db_hook.placeholder
        conn = db_hook.get_conn()  # the rows are consumed below: no API request has been made yet
        driver = copy_driver(db_hook, conn) if self.load_method != "insert" else None
        try:
            if self.load_method == "copy" and driver is None:
                raise AirflowFailException(
                    f"load_method: 'copy' needs a PostgreSQL connection (psycopg or psycopg2 through the "
                    f"postgres provider's hook); {self.sql_conn_id!r} gives a {type(db_hook).__name__}"
                )
            if db_hook.supports_autocommit:
                db_hook.set_autocommit(conn, False)
            if self.create_table:
                # Own transaction: concurrent first runs must not hold the DDL lock for a whole export.
                with closing(conn.cursor()) as cur:
                    cur.execute(create_table_sql(qualified, self.export_columns))
                conn.commit()
            rows = 0
            with closing(conn.cursor()) as cur:
                cur.execute(f"DELETE FROM {qualified} WHERE snapshot_id = {placeholder}", (snapshot_id,))
                deleted = max(cur.rowcount or 0, 0)
                if deleted:
                    self.log.info("Replacing %s rows of snapshot %s in %s", deleted, snapshot_id, qualified)
                if driver is not None:
                    rows = copy_rows(driver, cur, qualified, self.column_names, params, self.batch_size)
                else:
                    rows = self._insert(cur, qualified, placeholder, params)
            conn.commit()
        except BaseException:
            # Nothing of this run becomes visible: the snapshot's previous rows stay as they were.
            try:
                conn.rollback()
            except Exception:  # a broken connection rolls back on its own; keep the original error
                self.log.warning("Rollback on %s failed", qualified, exc_info=True)
            raise
        finally:
            conn.close()
        return rows, deleted, "insert" if driver is None else "copy"

    def _insert(self, cur: Any, qualified: str, placeholder: str, params: Iterable[tuple[Any, ...]]) -> int:
        """Portable `executemany` batches, cut with islice: no Python work per row here."""
        insert = (
            f"INSERT INTO {qualified} ({', '.join(self.column_names)}) "
            f"VALUES ({', '.join([placeholder] * len(self.column_names))})"
        )
        rows = 0
        source = iter(params)
        while batch := list(islice(source, self.batch_size)):
            cur.executemany(insert, batch)
            rows += len(batch)
        return rows


def _split_table(table: Any, schema: Any, partial: bool = False) -> tuple[str, ...]:
    """Validate and split the target into (schema, table) or (table,); `partial` skips templated parts."""
    if partial and is_templated(table):
        table = None
    elif not isinstance(table, str) or not table:
        raise ValueError(f"table: must be a non-empty string, got {table!r}")
    if partial and is_templated(schema):
        schema = None
    elif schema is not None and not isinstance(schema, str):
        raise ValueError(f"schema: must be a string, got {schema!r}")
    parts: list[str] = []
    if schema:
        parts.append(check_identifier("schema", schema))
    if table and "." in table:
        if schema:
            raise ValueError(f"table: give the schema in `schema` or as 'schema.table', not both: {table!r}")
        if table.count(".") != 1:
            raise ValueError(f"table: at most one dot ('schema.table'), got {table!r}")
        parts += [check_identifier("table", part) for part in table.split(".")]
    elif table:
        parts.append(check_identifier("table", table))
    return tuple(parts)


def _sql_asset(sql_conn_id: str, table: str, schema: str | None) -> Asset | None:
    """The outlet downstream DAGs schedule on; derived only when the target is known at parse time."""
    from airflow.sdk import Asset

    if is_templated(table) or is_templated(schema) or is_templated(sql_conn_id):
        return None
    qualified = f"{schema}.{table}" if schema else table
    return Asset(f"{ASSET_SCHEME}://{sql_conn_id}/{qualified}")
