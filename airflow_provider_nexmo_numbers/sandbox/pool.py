"""The deterministic inventory: which numbers exist, what they cost, and the pool of those still available.

Everything is derived from a seed with `random.Random`, so two sandboxes with the same seed offer the same
numbers at the same prices. Bulk-owned numbers (for 100,000-number accounts) come from separate prefixes,
computed by arithmetic, and never collide with the pool.
"""

from __future__ import annotations

import bisect
import random
import zlib
from dataclasses import dataclass

LANDLINE = "landline"
TOLL_FREE = "landline-toll-free"
MOBILE = "mobile-lvn"
NUMBER_TYPES = (LANDLINE, TOLL_FREE, MOBILE)

SMS, VOICE, MMS = "SMS", "VOICE", "MMS"
FEATURES = (SMS, VOICE, MMS)
#: The only feature strings the API accepts in `features` (order matters), per flavour.
KPN_FEATURE_FILTERS = ("SMS", "VOICE", "SMS,VOICE")
VONAGE_FEATURE_FILTERS = ("SMS", "VOICE", "SMS,VOICE", "MMS", "SMS,MMS", "VOICE,MMS", "SMS,MMS,VOICE")
#: Order features appear in responses. Like Vonage's own examples (["VOICE", "SMS", "MMS"]) it is NOT the
#: canonical request order: clients must sort.
_RESPONSE_ORDER = {VOICE: 0, SMS: 1, MMS: 2}


@dataclass(frozen=True, slots=True)
class NumberSpec:
    """A number's fixed attributes: what search shows and what an owned number inherits."""

    country: str
    msisdn: str
    type: str
    features: tuple[str, ...]  # response order (VOICE, SMS, MMS)
    cost: str  # monthly EUR, string like the API
    initial_price: str | None = None


def response_features(features: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    return tuple(sorted(features, key=_RESPONSE_ORDER.__getitem__))


# (type, [(prefix, total_length), ...], feature choices, (cost_lo_cents, cost_hi_cents))
_PLAN: dict[str, list[tuple[str, list[tuple[str, int]], list[tuple[str, ...]], tuple[int, int]]]] = {
    "GB": [
        (
            LANDLINE,
            [("44207946", 12), ("44161496", 12), ("44113496", 12)],
            [(VOICE,), (SMS, VOICE)],
            (50, 150),
        ),
        (
            MOBILE,
            [("4477009", 12), ("4477008", 12)],
            [(SMS, VOICE), (SMS, VOICE), (SMS,), (VOICE,)],
            (80, 250),
        ),
        (TOLL_FREE, [("44808157", 12), ("448001", 12)], [(VOICE,), (SMS, VOICE)], (800, 1800)),
    ],
    "NL": [
        (LANDLINE, [("3120", 11), ("3110", 11)], [(VOICE,), (SMS, VOICE)], (75, 175)),
        # half the mobile range are 13-digit M2M numbers (3197...)
        (MOBILE, [("3161", 11), ("3197010", 13)], [(SMS, VOICE), (SMS,)], (100, 300)),
        (TOLL_FREE, [("31800", 9)], [(VOICE,)], (1000, 2500)),
    ],
    "US": [
        (LANDLINE, [("1201555", 11), ("1212555", 11), ("1415555", 11)], [(SMS, VOICE), (VOICE,)], (70, 120)),
        (
            MOBILE,
            [("1646555", 11), ("1917555", 11)],
            [(SMS, VOICE, MMS), (SMS, MMS), (SMS, VOICE)],
            (90, 150),
        ),
        (
            TOLL_FREE,
            [("1800555", 11), ("1888555", 11), ("1833555", 11)],
            [(VOICE,), (SMS, VOICE)],
            (150, 300),
        ),
    ],
    "DE": [
        (LANDLINE, [("4930", 12), ("4940", 12), ("4989", 12)], [(VOICE,), (SMS, VOICE)], (90, 220)),
        (MOBILE, [("49157", 13)], [(SMS, VOICE), (SMS,)], (200, 400)),
        (TOLL_FREE, [("49800", 12)], [(VOICE,)], (1200, 3000)),
    ],
    "FR": [
        (LANDLINE, [("331", 11), ("334", 11)], [(VOICE,), (SMS, VOICE)], (100, 200)),
        (MOBILE, [("336", 11)], [(SMS, VOICE)], (250, 500)),
        (TOLL_FREE, [("33800", 11)], [(VOICE,)], (1500, 2500)),
    ],
}
#: Countries whose numbers carry a one-off set-up price (`initialPrice`) in search results.
_INITIAL_PRICE_COUNTRIES = {"NL": "2.00", "DE": "5.00"}

#: Bulk ranges for pre-owned numbers: prefix, total length, type, features. Disjoint from every pool prefix.
BULK_RANGES: dict[str, tuple[str, int, str, tuple[str, ...]]] = {
    "GB": ("4474", 12, MOBILE, (VOICE, SMS)),
    "NL": ("31979", 13, MOBILE, (VOICE, SMS)),
    "US": ("1959", 11, MOBILE, (VOICE, SMS)),
    "DE": ("49160", 13, MOBILE, (VOICE, SMS)),
    "FR": ("337", 11, MOBILE, (VOICE, SMS)),
}

_COST_RANGE = {(country, t): cost for country, plan in _PLAN.items() for t, _p, _f, cost in plan}


def _cents(value: int) -> str:
    return f"{value // 100}.{value % 100:02d}"


def derived_spec(country: str, msisdn: str, number_type: str, features: tuple[str, ...]) -> NumberSpec:
    """A spec for a number that was never in the generated pool (bulk-owned), priced from its digits."""
    lo, hi = _COST_RANGE.get((country, number_type), (100, 300))
    cost = lo + zlib.crc32(msisdn.encode()) % (hi - lo + 1)
    return NumberSpec(
        country,
        msisdn,
        number_type,
        response_features(features),
        _cents(cost),
        _INITIAL_PRICE_COUNTRIES.get(country),
    )


def generate_specs(seed: int, per_type: int) -> list[NumberSpec]:
    """The pool for `seed`: `per_type` numbers for each (country, type), spread over that type's prefixes."""
    rng = random.Random(seed)
    specs: list[NumberSpec] = []
    seen: set[str] = set()
    for country, plan in _PLAN.items():
        for number_type, prefixes, feature_choices, (lo, hi) in plan:
            shares = [
                per_type // len(prefixes) + (1 if i < per_type % len(prefixes) else 0)
                for i in range(len(prefixes))
            ]
            for (prefix, length), share in zip(prefixes, shares, strict=True):
                width = length - len(prefix)
                for suffix in sorted(rng.sample(range(10**width), min(share, 10**width))):
                    msisdn = f"{prefix}{suffix:0{width}d}"
                    if msisdn in seen:
                        continue
                    seen.add(msisdn)
                    specs.append(
                        NumberSpec(
                            country,
                            msisdn,
                            number_type,
                            response_features(rng.choice(feature_choices)),
                            _cents(rng.randint(lo, hi)),
                            _INITIAL_PRICE_COUNTRIES.get(country),
                        )
                    )
    return specs


class Pool:
    """Available numbers per country, each list kept sorted by msisdn (search answers in that order)."""

    def __init__(self, specs: list[NumberSpec]) -> None:
        self.specs: dict[str, NumberSpec] = {}
        self._by_country: dict[str, list[str]] = {}
        for spec in specs:
            self.specs[spec.msisdn] = spec
            self._by_country.setdefault(spec.country, []).append(spec.msisdn)
        for msisdns in self._by_country.values():
            msisdns.sort()

    def __contains__(self, msisdn: str) -> bool:
        spec = self.specs.get(msisdn)
        if spec is None:
            return False
        lst = self._by_country.get(spec.country, [])
        i = bisect.bisect_left(lst, msisdn)
        return i < len(lst) and lst[i] == msisdn

    def available(self, country: str) -> list[str]:
        return self._by_country.get(country, [])

    def total(self) -> int:
        return sum(len(v) for v in self._by_country.values())

    def take(self, msisdn: str) -> NumberSpec:
        spec = self.specs[msisdn]
        lst = self._by_country[spec.country]
        del lst[bisect.bisect_left(lst, msisdn)]
        return spec

    def put_back(self, spec: NumberSpec) -> None:
        self.specs[spec.msisdn] = spec
        lst = self._by_country.setdefault(spec.country, [])
        i = bisect.bisect_left(lst, spec.msisdn)
        if i == len(lst) or lst[i] != spec.msisdn:
            lst.insert(i, spec.msisdn)
