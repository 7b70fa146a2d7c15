"""The ledger over a DB-API connection: schema, claims, purchases, releases, campaign leases and reports.

Why each table exists:

- ``claims``: a buyer inserts a claim on an msisdn *before* it sends the purchase (primary key = msisdn, so
  exactly one buyer wins). A claim has an owner (``dag_id/run_id/task_id/map_index``), a campaign and a lease
  expiry. State ``claimed``: nothing sent yet, the lease may expire and another owner may take it over.
  State ``buying``: the purchase request is (about to be) on the wire; such a claim never expires by itself,
  because only its owner (its next try) or the campaign it was bought for can tell whether it was bought.
- ``purchases``: one row per purchase, with the monthly cost, the initial (set-up) price, the currency, the
  time, the owner, the campaign and the target API key (never a secret). Recording a purchase deletes its
  claim in the same transaction, so there is no moment when a number is neither claimed nor recorded.
- ``numbers``: the current fact per msisdn (owned or released, by whom, for which campaign, at what cost):
  what budgets, adoption, exports and drift checks read.
- ``releases``: one row per release or cancellation.
- ``leases``: one row per running campaign apply; a second run of the same campaign waits or fails.

Portable SQL only (``INSERT ... ON CONFLICT ... DO UPDATE ... WHERE ... RETURNING`` exists in PostgreSQL and
SQLite >= 3.35); timestamps are epoch seconds from the writer's clock; money is kept as exact decimal
strings. Parameters are written as ``?`` and translated to the driver's paramstyle.
"""

from __future__ import annotations

import dataclasses
import re
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any

__all__ = [
    "DEFAULT_PREFIX",
    "SCHEMA_VERSION",
    "Claim",
    "LeaseHeldError",
    "Ledger",
    "LedgerError",
    "LedgerUnavailableError",
]

SCHEMA_VERSION = 1
DEFAULT_PREFIX = "nexmo_ledger_"
_PREFIX_RULE = re.compile(r"^[a-z][a-z0-9_]{0,40}$")
DIALECTS = ("sqlite", "postgresql")


class LedgerError(RuntimeError):
    """A ledger rule was broken (a lost claim, an unsupported database...)."""


class LedgerUnavailableError(LedgerError):
    """The ledger database cannot be reached or prepared; money-moving tasks must not proceed."""


class LeaseHeldError(LedgerError):
    """Another run holds the campaign lease; ``holder`` and ``expires_at`` say who and until when."""

    def __init__(self, name: str, holder: str, expires_at: float, waited: float) -> None:
        self.name, self.holder, self.expires_at, self.waited = name, holder, expires_at, waited
        until = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(expires_at))
        super().__init__(
            f"campaign {name!r} is being applied by {holder} (lease until {until}); waited {waited:.0f} s. "
            "Two runs of the same campaign never apply at once: retry later or raise lease_wait"
        )


@dataclasses.dataclass(frozen=True)
class Claim:
    """The outcome of `Ledger.claim`: ``granted`` to this owner, else ``holder`` holds it. ``state`` is the
    claim's state after the call: ``buying`` for a granted claim means an earlier try of the same owner had
    already sent the purchase (so the account may own the number through it)."""

    msisdn: str
    granted: bool
    holder: str
    state: str


def _schema(p: str, dialect: str) -> list[str]:
    real = "DOUBLE PRECISION"
    return [
        f"CREATE TABLE IF NOT EXISTS {p}meta (key VARCHAR(64) PRIMARY KEY, value TEXT NOT NULL)",
        f"""CREATE TABLE IF NOT EXISTS {p}claims (
            msisdn VARCHAR(16) PRIMARY KEY, country VARCHAR(2) NOT NULL, owner TEXT NOT NULL,
            campaign TEXT, state VARCHAR(16) NOT NULL, claimed_at {real} NOT NULL,
            expires_at {real} NOT NULL, monthly_cost TEXT, initial_price TEXT, target_api_key TEXT)""",
        f"""CREATE TABLE IF NOT EXISTS {p}purchases (
            id VARCHAR(36) PRIMARY KEY, msisdn VARCHAR(16) NOT NULL, country VARCHAR(2) NOT NULL,
            owner TEXT NOT NULL, campaign TEXT, monthly_cost TEXT, initial_price TEXT,
            currency VARCHAR(3) NOT NULL, bought_at {real} NOT NULL, target_api_key TEXT)""",
        f"CREATE INDEX IF NOT EXISTS {p}purchases_owner ON {p}purchases (owner)",
        f"""CREATE TABLE IF NOT EXISTS {p}numbers (
            msisdn VARCHAR(16) PRIMARY KEY, country VARCHAR(2) NOT NULL, state VARCHAR(16) NOT NULL,
            owner TEXT, campaign TEXT, monthly_cost TEXT, initial_price TEXT, currency VARCHAR(3),
            bought_at {real}, released_at {real}, target_api_key TEXT)""",
        f"""CREATE TABLE IF NOT EXISTS {p}releases (
            id VARCHAR(36) PRIMARY KEY, msisdn VARCHAR(16) NOT NULL, country VARCHAR(2) NOT NULL,
            owner TEXT NOT NULL, kind VARCHAR(16) NOT NULL, campaign TEXT, released_at {real} NOT NULL,
            already_released INTEGER NOT NULL, target_api_key TEXT)""",
        f"""CREATE TABLE IF NOT EXISTS {p}leases (
            name TEXT PRIMARY KEY, holder TEXT NOT NULL, acquired_at {real} NOT NULL,
            expires_at {real} NOT NULL)""",
    ]


def _money(value: Decimal | str | None) -> str | None:
    return None if value is None else str(value)


class Ledger:
    """The ledger over ``connect`` (a zero-argument callable returning a DB-API connection).

    :param dialect: ``sqlite`` or ``postgresql``.
    :param prefix: table name prefix (lower-case identifier), so one database can hold several ledgers.
    :param clock: seconds since the epoch (injected for tests of lease expiry).

    Every public method is one transaction. On SQLite that is ``BEGIN IMMEDIATE`` (the write lock is taken
    up front, so two processes never both read "free" and both write); on PostgreSQL each statement that
    decides (claim, lease) is a single atomic upsert.
    """

    def __init__(
        self,
        connect: Callable[[], Any],
        *,
        dialect: str,
        prefix: str = DEFAULT_PREFIX,
        clock: Callable[[], float] = time.time,
        description: str = "ledger",
    ) -> None:
        if dialect not in DIALECTS:
            raise LedgerError(f"ledger dialect must be one of {', '.join(DIALECTS)}, got {dialect!r}")
        if not _PREFIX_RULE.match(prefix):
            raise LedgerError(f"ledger table prefix must match {_PREFIX_RULE.pattern}, got {prefix!r}")
        self._connect, self.dialect, self.prefix, self._clock = connect, dialect, prefix, clock
        self.description = description
        self._conn: Any = None

    # -- connection and transactions -------------------------------------------------------------------------

    def open(self) -> Ledger:
        """Connect and create/migrate the schema (idempotent, safe when many processes do it at once).

        Raises `LedgerUnavailableError` (naming the ledger, never its password) when that fails.
        """
        if self._conn is not None:
            return self
        try:
            self._conn = self._connect()
            with self._transaction() as cur:
                if self.dialect == "postgresql":
                    # Concurrent CREATE TABLE IF NOT EXISTS can collide in PostgreSQL's catalog.
                    cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (self.prefix + "schema",))
                for statement in _schema(self.prefix, self.dialect):
                    cur.execute(statement)
                self._execute(
                    cur,
                    f"INSERT INTO {self.prefix}meta (key, value) VALUES ('schema_version', ?) "
                    "ON CONFLICT (key) DO NOTHING",
                    (str(SCHEMA_VERSION),),
                )
        except LedgerError:
            raise
        except Exception as err:
            self.close()
            raise LedgerUnavailableError(
                f"the ledger ({self.description}) is unreachable or cannot be prepared: "
                f"{type(err).__name__}: {err}"
            ) from err
        return self

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None

    def __enter__(self) -> Ledger:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _sql(self, statement: str) -> str:
        return statement if self.dialect == "sqlite" else statement.replace("?", "%s")

    def _execute(self, cur: Any, statement: str, params: Sequence[Any] = ()) -> Any:
        cur.execute(self._sql(statement), tuple(params))
        return cur

    class _Tx:
        def __init__(self, ledger: Ledger) -> None:
            self.ledger = ledger

        def __enter__(self) -> Any:
            conn = self.ledger._conn
            self.cur = conn.cursor()
            if self.ledger.dialect == "sqlite":
                self.cur.execute("BEGIN IMMEDIATE")
            return self.cur

        def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
            conn = self.ledger._conn
            try:
                if self.ledger.dialect == "sqlite":
                    self.cur.execute("ROLLBACK" if exc_type else "COMMIT")
                elif exc_type:
                    conn.rollback()
                else:
                    conn.commit()
            finally:
                self.cur.close()

    def _transaction(self) -> Ledger._Tx:
        if self._conn is None:
            self.open()
        return Ledger._Tx(self)

    def _rows(self, statement: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        with self._transaction() as cur:
            self._execute(cur, statement, params)
            names = [column[0] for column in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    # -- claims and purchases --------------------------------------------------------------------------------

    def claim(
        self, msisdn: str, country: str, owner: str, *, campaign: str | None = None, lease_seconds: float
    ) -> Claim:
        """Claim ``msisdn`` for ``owner`` atomically: granted when nobody holds it, when ``owner`` already
        holds it (an earlier try: its state is kept), or when another owner's ``claimed`` lease expired."""
        now = self._clock()
        p = self.prefix
        with self._transaction() as cur:
            self._execute(
                cur,
                f"""INSERT INTO {p}claims (msisdn, country, owner, campaign, state, claimed_at, expires_at)
                VALUES (?, ?, ?, ?, 'claimed', ?, ?)
                ON CONFLICT (msisdn) DO UPDATE SET
                    state = CASE WHEN {p}claims.owner = excluded.owner
                                 THEN {p}claims.state ELSE 'claimed' END,
                    owner = excluded.owner, campaign = excluded.campaign, country = excluded.country,
                    claimed_at = excluded.claimed_at, expires_at = excluded.expires_at
                WHERE {p}claims.owner = excluded.owner
                   OR ({p}claims.state = 'claimed' AND {p}claims.expires_at < excluded.claimed_at)
                RETURNING owner, state""",
                (msisdn, country, owner, campaign, now, now + lease_seconds),
            )
            row = cur.fetchone()
            if row is not None:
                return Claim(msisdn=msisdn, granted=True, holder=row[0], state=row[1])
            self._execute(cur, f"SELECT owner, state FROM {p}claims WHERE msisdn = ?", (msisdn,))
            held = cur.fetchone()
        holder, state = (held[0], held[1]) if held else ("(released meanwhile)", "claimed")
        return Claim(msisdn=msisdn, granted=False, holder=holder, state=state)

    def mark_buying(
        self,
        msisdn: str,
        owner: str,
        *,
        monthly_cost: Decimal | str | None = None,
        initial_price: Decimal | str | None = None,
        target_api_key: str | None = None,
    ) -> None:
        """Mark the claim as "purchase on the wire" (it then never expires by itself), with the price about
        to be paid, so that a try killed before `record_purchase` can be recorded by the next one. Raises
        `LedgerError` when ``owner`` no longer holds the claim: then the purchase must not be sent."""
        with self._transaction() as cur:
            self._execute(
                cur,
                f"""UPDATE {self.prefix}claims SET state = 'buying', monthly_cost = ?, initial_price = ?,
                    target_api_key = ? WHERE msisdn = ? AND owner = ?""",
                (_money(monthly_cost), _money(initial_price), target_api_key, msisdn, owner),
            )
            if cur.rowcount != 1:
                raise LedgerError(f"the claim on {msisdn} is no longer held by {owner}; nothing bought")

    def drop_claim(self, msisdn: str, owner: str) -> None:
        """Give a claim up (the number was not bought by ``owner``)."""
        with self._transaction() as cur:
            self._execute(
                cur, f"DELETE FROM {self.prefix}claims WHERE msisdn = ? AND owner = ?", (msisdn, owner)
            )

    def record_purchase(
        self,
        *,
        msisdn: str,
        country: str,
        owner: str,
        campaign: str | None = None,
        monthly_cost: Decimal | str | None,
        initial_price: Decimal | str | None = None,
        currency: str = "EUR",
        target_api_key: str | None = None,
    ) -> None:
        """Record a purchase, make it the number's current fact, and delete its claim: one transaction."""
        now = self._clock()
        p = self.prefix
        cost, initial = _money(monthly_cost), _money(initial_price)
        with self._transaction() as cur:
            self._execute(
                cur,
                f"""INSERT INTO {p}purchases (id, msisdn, country, owner, campaign, monthly_cost,
                    initial_price, currency, bought_at, target_api_key)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (
                    str(uuid.uuid4()),
                    msisdn,
                    country,
                    owner,
                    campaign,
                    cost,
                    initial,
                    currency,
                    now,
                    target_api_key,
                ),
            )
            self._execute(
                cur,
                f"""INSERT INTO {p}numbers (msisdn, country, state, owner, campaign, monthly_cost,
                    initial_price, currency, bought_at, released_at, target_api_key)
                VALUES (?, ?, 'owned', ?, ?, ?, ?, ?, ?, NULL, ?)
                ON CONFLICT (msisdn) DO UPDATE SET country = excluded.country, state = 'owned',
                    owner = excluded.owner, campaign = excluded.campaign,
                    monthly_cost = excluded.monthly_cost, initial_price = excluded.initial_price,
                    currency = excluded.currency, bought_at = excluded.bought_at, released_at = NULL,
                    target_api_key = excluded.target_api_key""",
                (msisdn, country, owner, campaign, cost, initial, currency, now, target_api_key),
            )
            self._execute(cur, f"DELETE FROM {p}claims WHERE msisdn = ?", (msisdn,))

    def assign(self, msisdn: str, country: str, *, owner: str, campaign: str) -> bool:
        """Let ``campaign`` hold an owned number it takes (bought outside the ledger, or by a plain buy task
        and now carrying the campaign's marker): granted unless another campaign holds it or another owner
        has a live claim on it. Who bought it stays recorded. Atomic."""
        now = self._clock()
        p = self.prefix
        with self._transaction() as cur:
            self._execute(
                cur,
                f"""SELECT owner FROM {p}claims WHERE msisdn = ? AND owner <> ?
                    AND (state = 'buying' OR expires_at >= ?)""",
                (msisdn, owner, now),
            )
            if cur.fetchone() is not None:
                return False
            self._execute(
                cur,
                f"""INSERT INTO {p}numbers (msisdn, country, state, owner, campaign)
                VALUES (?, ?, 'owned', ?, ?)
                ON CONFLICT (msisdn) DO UPDATE SET state = 'owned', campaign = excluded.campaign,
                    owner = COALESCE({p}numbers.owner, excluded.owner), released_at = NULL
                WHERE {p}numbers.state = 'released' OR {p}numbers.campaign = excluded.campaign
                   OR {p}numbers.campaign IS NULL
                RETURNING msisdn""",
                (msisdn, country, owner, campaign),
            )
            return cur.fetchone() is not None

    def record_release(
        self,
        *,
        msisdn: str,
        country: str,
        owner: str,
        kind: str,
        already_released: bool = False,
        target_api_key: str | None = None,
    ) -> None:
        """Record a release (``kind`` = ``release`` for a campaign's, ``cancel`` for the cancel operator)."""
        now = self._clock()
        p = self.prefix
        with self._transaction() as cur:
            self._execute(cur, f"SELECT campaign FROM {p}numbers WHERE msisdn = ?", (msisdn,))
            row = cur.fetchone()
            self._execute(
                cur,
                f"""INSERT INTO {p}releases (id, msisdn, country, owner, kind, campaign, released_at,
                    already_released, target_api_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (
                    str(uuid.uuid4()),
                    msisdn,
                    country,
                    owner,
                    kind,
                    row[0] if row else None,
                    now,
                    int(already_released),
                    target_api_key,
                ),
            )
            self._execute(
                cur,
                f"""INSERT INTO {p}numbers (msisdn, country, state, owner, released_at)
                VALUES (?, ?, 'released', ?, ?)
                ON CONFLICT (msisdn) DO UPDATE SET state = 'released', released_at = excluded.released_at""",
                (msisdn, country, owner, now),
            )

    # -- reads -----------------------------------------------------------------------------------------------

    def claims(self, *, owner: str | None = None, campaign: str | None = None) -> list[dict[str, Any]]:
        """Claims (all, or of one owner / campaign), oldest first."""
        where, params = self._filters(owner=owner, campaign=campaign)
        return self._rows(f"SELECT * FROM {self.prefix}claims{where} ORDER BY claimed_at, msisdn", params)

    def purchases(self, *, owner: str | None = None, campaign: str | None = None) -> list[dict[str, Any]]:
        """Purchase records (all, or of one owner / campaign), oldest first."""
        where, params = self._filters(owner=owner, campaign=campaign)
        return self._rows(f"SELECT * FROM {self.prefix}purchases{where} ORDER BY bought_at, msisdn", params)

    def releases(self) -> list[dict[str, Any]]:
        return self._rows(f"SELECT * FROM {self.prefix}releases ORDER BY released_at, msisdn")

    def numbers(self, *, state: str | None = "owned", campaign: str | None = None) -> list[dict[str, Any]]:
        """The current fact per msisdn (owned ones by default)."""
        where, params = self._filters(state=state, campaign=campaign)
        return self._rows(f"SELECT * FROM {self.prefix}numbers{where} ORDER BY msisdn", params)

    @staticmethod
    def _filters(**wanted: Any) -> tuple[str, list[Any]]:
        given = {name: value for name, value in wanted.items() if value is not None}
        if not given:
            return "", []
        return " WHERE " + " AND ".join(f"{name} = ?" for name in given), list(given.values())

    def held_elsewhere(self, *, owner: str, campaign: str | None) -> dict[str, str]:
        """msisdn -> who holds it, for numbers that ``owner``/``campaign`` must neither adopt nor buy: live
        claims of other owners (``buying`` ones always), and owned numbers recorded for another campaign or
        owner. Claims and numbers of ``campaign`` itself are not listed."""
        now = self._clock()
        p = self.prefix
        held: dict[str, str] = {}
        for row in self._rows(
            f"SELECT msisdn, owner, campaign, state, expires_at FROM {p}claims WHERE owner <> ?", (owner,)
        ):
            live = row["state"] == "buying" or row["expires_at"] >= now
            if live and (campaign is None or row["campaign"] != campaign):
                held[row["msisdn"]] = f"claimed by {row['owner']}"
        for row in self._rows(f"SELECT msisdn, owner, campaign FROM {p}numbers WHERE state = 'owned'"):
            if campaign is not None and row["campaign"] == campaign:
                continue
            if row["campaign"] is None and row["owner"] == owner:
                continue
            held.setdefault(
                row["msisdn"],
                f"held by campaign {row['campaign']}" if row["campaign"] else f"bought by {row['owner']}",
            )
        return held

    def facts(self, msisdns: Iterable[str] | None = None) -> dict[str, dict[str, Any]]:
        """Per msisdn the ledger's facts for exports: ``bought_at`` (ISO 8601 UTC or None),
        ``monthly_cost`` (decimal string or None), ``initial_price``, ``currency``, ``campaign``, ``owner``,
        ``state``. Only numbers the ledger knows appear."""
        wanted = None if msisdns is None else {str(m) for m in msisdns}
        out: dict[str, dict[str, Any]] = {}
        for row in self.numbers(state=None):
            if wanted is not None and row["msisdn"] not in wanted:
                continue
            out[row["msisdn"]] = {
                "bought_at": _iso(row["bought_at"]),
                "monthly_cost": row["monthly_cost"],
                "initial_price": row["initial_price"],
                "currency": row["currency"],
                "campaign": row["campaign"],
                "owner": row["owner"],
                "state": row["state"],
            }
        return out

    def spend_report(self) -> list[dict[str, Any]]:
        """Monthly spend of the owned numbers per (campaign, country): ``numbers``, ``monthly_cost``,
        ``initial_cost`` (one-off set-up prices paid), ``unknown_cost`` (numbers without a recorded cost)."""
        groups: dict[tuple[str, str], dict[str, Any]] = {}
        for row in self.numbers():
            key = (row["campaign"] or "", row["country"])
            group = groups.setdefault(
                key,
                {
                    "campaign": row["campaign"],
                    "country": row["country"],
                    "numbers": 0,
                    "monthly_cost": Decimal(0),
                    "initial_cost": Decimal(0),
                    "unknown_cost": 0,
                },
            )
            group["numbers"] += 1
            if row["monthly_cost"] is None:
                group["unknown_cost"] += 1
            else:
                group["monthly_cost"] += Decimal(row["monthly_cost"])
            if row["initial_price"] is not None:
                group["initial_cost"] += Decimal(row["initial_price"])
        report = []
        for _key, group in sorted(groups.items()):
            report.append(
                {
                    **group,
                    "monthly_cost": str(group["monthly_cost"]),
                    "initial_cost": str(group["initial_cost"]),
                }
            )
        return report

    # -- campaign leases -------------------------------------------------------------------------------------

    def try_lease(self, name: str, holder: str, *, lease_seconds: float) -> tuple[bool, str, float]:
        """Take or renew the lease ``name`` for ``holder`` if it is free, expired or already ``holder``'s.
        Returns (granted, current holder, its expiry)."""
        now = self._clock()
        p = self.prefix
        with self._transaction() as cur:
            self._execute(
                cur,
                f"""INSERT INTO {p}leases (name, holder, acquired_at, expires_at) VALUES (?, ?, ?, ?)
                ON CONFLICT (name) DO UPDATE SET holder = excluded.holder,
                    acquired_at = excluded.acquired_at, expires_at = excluded.expires_at
                WHERE {p}leases.holder = excluded.holder OR {p}leases.expires_at < excluded.acquired_at
                RETURNING holder, expires_at""",
                (name, holder, now, now + lease_seconds),
            )
            row = cur.fetchone()
            if row is None:
                self._execute(cur, f"SELECT holder, expires_at FROM {p}leases WHERE name = ?", (name,))
                row = cur.fetchone() or (holder, now)
        return row[0] == holder, row[0], float(row[1])

    def acquire_lease(
        self,
        name: str,
        holder: str,
        *,
        lease_seconds: float,
        wait_seconds: float,
        poll_seconds: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """`try_lease` until granted, for at most ``wait_seconds``; then `LeaseHeldError` naming the
        holder."""
        started = time.monotonic()
        while True:
            granted, current, expires_at = self.try_lease(name, holder, lease_seconds=lease_seconds)
            if granted:
                return
            waited = time.monotonic() - started
            if waited >= wait_seconds:
                raise LeaseHeldError(name, current, expires_at, waited)
            sleep(min(poll_seconds, max(0.05, wait_seconds - waited)))

    def release_lease(self, name: str, holder: str) -> None:
        with self._transaction() as cur:
            self._execute(
                cur, f"DELETE FROM {self.prefix}leases WHERE name = ? AND holder = ?", (name, holder)
            )

    def leases(self) -> list[dict[str, Any]]:
        return self._rows(f"SELECT * FROM {self.prefix}leases ORDER BY name")


def _iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(float(epoch)))
