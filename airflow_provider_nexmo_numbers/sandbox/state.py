"""Accounts and the inventory: which client owns which number, and how buying and cancelling move numbers.

An account keeps its msisdns in one sorted list (the order `GET /account/numbers` pages through) plus a
dict of records. Bulk-seeded numbers are stored as a shared `SeedBlock` marker and only turned into a record
when touched, so an account of 100,000 configured numbers costs two list/dict builds, not 100,000 dicts.
Each record's JSON is cached per flavour, so a page of 100 is a join of cached byte strings.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from .pool import BULK_RANGES, Pool, derived_spec, generate_specs
from .wire import dumps

#: Configuration fields of an owned number, in response order (after country/msisdn/type/features).
CONFIG_FIELDS = (
    "moHttpUrl",
    "voiceCallbackType",
    "voiceCallbackValue",
    "moSmppSysType",
    "voiceStatusCallback",
    "messagesCallbackType",
    "messagesCallbackValue",
    "app_id",
)

SEEDED_MO_HTTP_URL = "https://hooks.example.com/nexmo/inbound"
SEEDED_STATUS_URL = "https://hooks.example.com/nexmo/status"


_HOLE = "@@MSISDN@@"  # JSON-safe, cannot occur in generated values


class SeedBlock:
    """Shared description of bulk-seeded numbers; a record is derived from it and the msisdn on demand.

    `templates[kpn]` is the number's JSON split where the msisdn goes, so an untouched bulk number is
    serialised with one bytes.join (no dict, no json.dumps).
    """

    __slots__ = ("configured", "country", "features", "templates", "type")

    def __init__(self, country: str, type: str, features: tuple[str, ...], configured: bool) -> None:
        self.country, self.type, self.features, self.configured = country, type, features, configured
        self.templates = tuple(
            dumps(owned_wire(self.record(_HOLE), kpn=kpn)).split(_HOLE.encode()) for kpn in (False, True)
        )

    def record(self, msisdn: str) -> dict[str, Any]:
        rec: dict[str, Any] = {
            "country": self.country,
            "msisdn": msisdn,
            "type": self.type,
            "features": self.features,
        }
        if self.configured:
            rec["moHttpUrl"] = SEEDED_MO_HTTP_URL
            rec["voiceCallbackType"] = "sip"
            rec["voiceCallbackValue"] = f"sip:{msisdn}@sip.example.com"
            rec["voiceStatusCallback"] = SEEDED_STATUS_URL
        return rec


def owned_wire(rec: dict[str, Any], *, kpn: bool) -> dict[str, Any]:
    """An owned number as the API shows it; empty fields are left out."""
    out: dict[str, Any] = {"country": rec["country"], "msisdn": rec["msisdn"]}
    if rec.get("moHttpUrl"):
        out["moHttpUrl"] = rec["moHttpUrl"]
    out["type"] = rec["type"]
    out["features"] = list(rec["features"])
    for name in CONFIG_FIELDS[1:]:
        value = rec.get(name)
        if value:
            out[name] = value
    return out


class Account:
    """One client's owned numbers (an "inventory" in the API's words)."""

    def __init__(self, client_id: str) -> None:
        self.client_id = client_id
        self._sorted: list[str] = []
        self._items: dict[str, dict[str, Any] | SeedBlock] = {}
        self._frag: tuple[dict[str, bytes], dict[str, bytes]] = ({}, {})  # (vonage, kpn)
        self._version = 0
        self._cache: tuple[Any, list[str]] | None = None
        self.balance = Decimal("100.00")
        self.auto_reload = True

    def __len__(self) -> int:
        return len(self._sorted)

    def __contains__(self, msisdn: str) -> bool:
        return msisdn in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._sorted))

    def get(self, msisdn: str) -> dict[str, Any]:
        item = self._items[msisdn]
        if isinstance(item, SeedBlock):
            item = item.record(msisdn)
            self._items[msisdn] = item
        return item

    def add(self, rec: dict[str, Any]) -> None:
        msisdn = rec["msisdn"]
        if msisdn not in self._items:
            bisect.insort(self._sorted, msisdn)
        self._items[msisdn] = rec
        self._touch(msisdn)

    def add_bulk(self, msisdns: list[str], block: SeedBlock) -> None:
        """Add many sorted, new msisdns sharing one SeedBlock (cheap for 100,000)."""
        if not msisdns:
            return
        self._items.update(dict.fromkeys(msisdns, block))
        if not self._sorted or self._sorted[-1] < msisdns[0]:
            self._sorted.extend(msisdns)
        else:
            self._sorted = sorted(self._sorted + msisdns)  # two sorted runs: linear for timsort
        self._version += 1
        self._cache = None

    def replace(self, msisdn: str, rec: dict[str, Any]) -> None:
        self._items[msisdn] = rec
        self._touch(msisdn)

    def remove(self, msisdn: str) -> dict[str, Any]:
        rec = self.get(msisdn)
        del self._items[msisdn]
        del self._sorted[bisect.bisect_left(self._sorted, msisdn)]
        self._touch(msisdn)
        return rec

    def _touch(self, msisdn: str) -> None:
        self._version += 1
        self._cache = None
        self._frag[0].pop(msisdn, None)
        self._frag[1].pop(msisdn, None)

    def fragments(self, msisdns: list[str], *, kpn: bool) -> list[bytes]:
        """The JSON of each number, in order: cached per flavour, templated for untouched bulk numbers."""
        cache = self._frag[kpn]
        items = self._items
        out = []
        for msisdn in msisdns:
            frag = cache.get(msisdn)
            if frag is None:
                item = items[msisdn]
                if (
                    item.__class__ is SeedBlock
                ):  # untouched bulk number: template, not cached (100,000 of them)
                    frag = msisdn.encode().join(item.templates[kpn])
                else:
                    frag = cache[msisdn] = dumps(owned_wire(item, kpn=kpn))
            out.append(frag)
        return out

    def _peek(self, msisdn: str) -> tuple[str, str | None]:
        item = self._items[msisdn]
        if isinstance(item, SeedBlock):
            return item.country, None
        return item["country"], item.get("app_id") or None

    def matching(
        self,
        pattern: str | None,
        search_pattern: int,
        *,
        country: str | None = None,
        application_id: str | None = None,
        has_application: bool | None = None,
    ) -> tuple[list[str], int, int]:
        """Msisdns matching the filters as (list, lo, hi): the matches are list[lo:hi], in msisdn order.

        Starts-with is a bisect on the sorted list (no copy); other filters scan once and the result is cached
        until the account changes, so paging through a 100,000-number account scans once, not once per page.
        """
        numbers = self._sorted
        extra = (country, application_id, has_application)
        if pattern and search_pattern == 0 and extra == (None, None, None):
            lo = bisect.bisect_left(numbers, pattern)
            hi = bisect.bisect_left(numbers, pattern[:-1] + chr(ord(pattern[-1]) + 1), lo)
            return numbers, lo, hi
        if not pattern and extra == (None, None, None):
            return numbers, 0, len(numbers)
        key = (self._version, pattern, search_pattern, extra)
        if self._cache is not None and self._cache[0] == key:
            found = self._cache[1]
            return found, 0, len(found)
        if not pattern:
            found = list(numbers)
        elif search_pattern == 0:
            found = [m for m in numbers if m.startswith(pattern)]
        elif search_pattern == 1:
            found = [m for m in numbers if pattern in m]
        else:
            found = [m for m in numbers if m.endswith(pattern)]
        if extra != (None, None, None):
            kept = []
            for m in found:
                c, app = self._peek(m)
                if country is not None and c != country:
                    continue
                if application_id is not None and app != application_id:
                    continue
                if has_application is not None and (app is not None) != has_application:
                    continue
                kept.append(m)
            found = kept
        self._cache = (key, found)
        return found, 0, len(found)


class Inventory:
    """The pool plus every client's account; all mutations happen on the server's event loop (no locks)."""

    def __init__(self, *, seed: int, per_type: int, clients: list[str]) -> None:
        self.pool = Pool(generate_specs(seed, per_type))
        self.accounts: dict[str, Account] = {cid: Account(cid) for cid in clients}
        self._bulk_next: dict[str, int] = dict.fromkeys(BULK_RANGES, 0)

    def seed_owned(
        self, client_id: str, n: int, country: str = "GB", configured: bool = True
    ) -> dict[str, Any]:
        """Give `client_id` n more owned numbers from the country's bulk range, computed by arithmetic."""
        if country not in BULK_RANGES:
            raise ValueError(f"country must be one of {', '.join(BULK_RANGES)}, got {country!r}")
        prefix, length, number_type, features = BULK_RANGES[country]
        width = length - len(prefix)
        start = self._bulk_next[country]
        if start + n > 10**width:
            raise ValueError(f"bulk range for {country} exhausted")
        self._bulk_next[country] = start + n
        msisdns = [f"{prefix}{i:0{width}d}" for i in range(start, start + n)]
        self.accounts[client_id].add_bulk(msisdns, SeedBlock(country, number_type, features, configured))
        return {
            "client_id": client_id,
            "added": n,
            "first": msisdns[0] if msisdns else None,
            "last": msisdns[-1] if msisdns else None,
            "owned": len(self.accounts[client_id]),
        }

    def set_balance(self, client_id: str | None, value: float | str, auto_reload: bool) -> None:
        """Set the balance (EUR) of one account, or of every account (`client_id` None)."""
        amount = Decimal(str(value))
        if not amount.is_finite():
            raise ValueError(f"balance must be a finite number, got {value!r}")
        for account in self.accounts.values() if client_id is None else [self.accounts[client_id]]:
            account.balance, account.auto_reload = amount, bool(auto_reload)

    def take_for_someone_else(self, msisdn: str) -> bool:
        """Another customer of the API buys `msisdn` (it leaves the pool); False if it was not available."""
        if msisdn not in self.pool:
            return False
        self.pool.take(msisdn)
        return True

    def buy(self, client_id: str, country: str, msisdn: str) -> str | None:
        """Move msisdn from the pool to the account; None on success, else why it is a 420."""
        account = self.accounts[client_id]
        if msisdn in account:
            return "number already owned by this account"
        if msisdn not in self.pool:
            return "number is not available"
        spec = self.pool.specs[msisdn]
        if spec.country != country:
            return f"number belongs to country {spec.country}, not {country}"
        price = Decimal(spec.cost) + Decimal(spec.initial_price or "0")
        if not account.auto_reload:
            if price > account.balance:
                return f"no credit: the number costs {price} EUR, the balance is {account.balance} EUR"
            account.balance -= price
        self.pool.take(msisdn)
        account.add({"country": spec.country, "msisdn": msisdn, "type": spec.type, "features": spec.features})
        return None

    def cancel(self, client_id: str, country: str, msisdn: str) -> str | None:
        """Move msisdn from the account back to the pool; None on success, else why it is a 420."""
        account = self.accounts[client_id]
        if msisdn not in account:
            return "number is not owned by this account"
        rec = account.get(msisdn)
        if rec["country"] != country:
            return f"number belongs to country {rec['country']}, not {country}"
        account.remove(msisdn)
        spec = self.pool.specs.get(msisdn) or derived_spec(
            rec["country"], msisdn, rec["type"], rec["features"]
        )
        self.pool.put_back(spec)
        return None

    def owner_of(self, msisdn: str) -> str | None:
        for client_id, account in self.accounts.items():
            if msisdn in account:
                return client_id
        return None
