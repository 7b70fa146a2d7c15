"""Which owned numbers belong to a campaign: `NumberSelector`.

The Numbers API has no tags or labels, so a campaign recognises its numbers by what they are and what they
carry.
A selector therefore has two halves with different jobs:

- **identity criteria** (`country`, `type`, `features`, `pattern` + `search_pattern`): what kind of number it
  is. They never change after purchase, so they are also the search criteria for buying new numbers, and a
  freshly bought (still unconfigured) number already matches them.
- **campaign marker** (`mo_http_url`, `mo_smpp_sys_type`, `voice_callback_type`, `voice_callback_value`,
  `voice_status_callback`, `app_id`): configuration that only the campaign's numbers carry, typically the
  campaign's own webhook URL. It tells "our" numbers apart from other numbers of the same kind.

`matches()` requires both halves; `matches_identity()` and `matches_marker()` are exposed separately because
the ensure planner needs them apart (a number that matches the identity but not yet the marker may be adopted,
see `plan.py`). Matching is pure: no I/O, works on `OwnedNumber` models and on plain dicts (e.g. from XCom).

The module imports nothing heavy at import time: validation helpers come from the client lazily.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

__all__ = [
    "CONFIG_FIELDS",
    "IDENTITY_FIELDS",
    "NumberSelector",
    "field_of",
    "is_unconfigured",
]

IDENTITY_FIELDS: tuple[str, ...] = ("country", "type", "features", "pattern", "search_pattern")
# The writable settings of a number (same names as the client's UPDATE_FIELDS), usable as a campaign marker.
CONFIG_FIELDS: tuple[str, ...] = (
    "mo_http_url",
    "mo_smpp_sys_type",
    "voice_callback_type",
    "voice_callback_value",
    "voice_status_callback",
    "app_id",
)
# Settings that count as "configured" when deciding whether a number is untouched since purchase.
_ANY_SETTING_FIELDS: tuple[str, ...] = (*CONFIG_FIELDS, "messages_callback_type", "messages_callback_value")

_SEARCH_PATTERN_NAMES = {0: "starts_with", 1: "contains", 2: "ends_with"}


def field_of(number: Any, name: str) -> Any:
    """Read field `name` from an `OwnedNumber`/`AvailableNumber` model or from a dict with Python names."""
    if isinstance(number, Mapping):
        return number.get(name)
    return getattr(number, name, None)


def _text(value: Any) -> str:
    """The API reports an unset setting as missing, null or ''; all three compare as ''."""
    return "" if value is None else str(value).strip()


def is_unconfigured(number: Any) -> bool:
    """True when the number carries no setting at all (no webhook, no voice routing, no app): how a number
    looks right after purchase, before anyone configured it."""
    return all(_text(field_of(number, name)) == "" for name in _ANY_SETTING_FIELDS)


def _features_of(number: Any) -> set[str]:
    raw = field_of(number, "features") or []
    items = raw.split(",") if isinstance(raw, str) else raw
    return {str(item).strip().upper() for item in items if str(item).strip()}


@dataclasses.dataclass(frozen=True)
class NumberSelector:
    """Identity criteria plus an optional campaign marker; see the module docstring.

    Build one with `NumberSelector.parse(mapping_or_selector)` (validates and normalises, naming the field of
    any bad value), or construct it directly and call `validated()`.

    :param country: ISO 3166-1 alpha-2 code (any case in, upper case kept).
    :param type: ``landline``, ``landline-toll-free`` or ``mobile-lvn``.
    :param features: SMS, VOICE, MMS as a list or comma string. A number matches when it has *at least* these
        features (the same way the API's search filter works).
    :param pattern: digits matched against the msisdn; how is given by ``search_pattern``.
    :param search_pattern: 0/"starts_with" (default; the pattern then includes the country code),
        1/"contains", 2/"ends_with".
    :param mo_http_url: marker: the SMS webhook the campaign's numbers carry (exact string match).
    :param mo_smpp_sys_type: marker.
    :param voice_callback_type: marker (``sip``, ``tel``, ``app``); compared case-insensitively.
    :param voice_callback_value: marker.
    :param voice_status_callback: marker.
    :param app_id: marker.

    A marker value of ``""`` means "this setting must be unset".
    """

    country: str | None = None
    type: str | None = None
    features: str | None = None
    pattern: str | None = None
    search_pattern: int | None = None
    mo_http_url: str | None = None
    mo_smpp_sys_type: str | None = None
    voice_callback_type: str | None = None
    voice_callback_value: str | None = None
    voice_status_callback: str | None = None
    app_id: str | None = None

    # -- construction ----------------------------------------------------------------------------------------

    @classmethod
    def parse(cls, value: Any, *, field: str = "selector") -> NumberSelector:
        """A validated selector from a `NumberSelector`, a mapping with the parameter names, or None (empty).

        Unknown keys are refused (a typo such as ``moHttpUrl`` would otherwise silently widen the selector).
        """
        from airflow_provider_nexmo_numbers.client.errors import NexmoValidationError

        if value is None:
            return cls()
        if isinstance(value, NumberSelector):
            return value.validated(field=field)
        if not isinstance(value, Mapping):
            raise NexmoValidationError(
                f"invalid {field} {value!r}: must be a NumberSelector or a mapping of selector fields",
                field=field,
                rule="must be a NumberSelector or a mapping",
            )
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(str(key) for key in value if key not in known)
        if unknown:
            raise NexmoValidationError(
                f"unknown {field} field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(known))}",
                field=f"{field}.{unknown[0]}",
                rule="not a selector field",
            )
        return cls(**dict(value)).validated(field=field)

    def validated(self, *, field: str = "selector") -> NumberSelector:
        """A normalised copy (upper-case country, canonical features, 0/1/2 search pattern ...), or
        `NexmoValidationError` naming ``<field>.<name>`` and the rule broken."""
        from airflow_provider_nexmo_numbers.client import validation as v
        from airflow_provider_nexmo_numbers.client.errors import NexmoValidationError

        def name(attr: str) -> str:
            return f"{field}.{attr}"

        changes: dict[str, Any] = {}
        if self.country is not None:
            changes["country"] = v.validate_country(self.country, field=name("country"))
        changes["type"] = v.validate_number_type(self.type, field=name("type"))
        changes["features"] = v.validate_features(self.features, field=name("features"))
        changes["pattern"] = v.validate_pattern(self.pattern, field=name("pattern"))
        changes["search_pattern"] = v.validate_search_pattern(
            self.search_pattern, field=name("search_pattern")
        )
        if changes["search_pattern"] is not None and changes["pattern"] is None:
            raise NexmoValidationError(
                f"invalid {name('search_pattern')} {self.search_pattern!r}: needs a pattern to apply to",
                field=name("search_pattern"),
                rule="requires pattern",
            )
        for attr in ("mo_http_url", "voice_status_callback"):
            value = getattr(self, attr)
            if value is not None:
                changes[attr] = v.validate_url(name(attr), value)
        for attr in ("mo_smpp_sys_type", "app_id"):
            value = getattr(self, attr)
            if value is not None:
                if not isinstance(value, str):
                    raise NexmoValidationError(
                        f"invalid {name(attr)} {value!r}: must be a string",
                        field=name(attr),
                        rule="must be a string",
                    )
                changes[attr] = value.strip()
        vtype, vvalue = self.voice_callback_type, self.voice_callback_value
        if vtype is not None or vvalue is not None:
            # A marker may name only the type (e.g. "all our sip-routed numbers"), so the pair rule of updates
            # applies only when the value is given.
            if vvalue is not None:
                vtype, vvalue = v.validate_voice_callback(
                    vtype, vvalue, type_field=name("voice_callback_type")
                )
            elif not isinstance(vtype, str) or vtype.strip().lower() not in ("", *v.VOICE_CALLBACK_TYPES):
                raise NexmoValidationError(
                    f"invalid {name('voice_callback_type')} {vtype!r}: must be one of sip, tel, app (or '')",
                    field=name("voice_callback_type"),
                    rule="must be one of sip, tel, app",
                )
            else:
                vtype = vtype.strip().lower()
            changes["voice_callback_type"] = vtype
            changes["voice_callback_value"] = vvalue
        return dataclasses.replace(self, **changes)

    # -- views -----------------------------------------------------------------------------------------------

    @property
    def marker(self) -> dict[str, str]:
        """The campaign marker: configuration fields that are set (``""`` included: "must be unset")."""
        return {name: getattr(self, name) for name in CONFIG_FIELDS if getattr(self, name) is not None}

    @property
    def identity(self) -> dict[str, Any]:
        """The identity criteria that are set."""
        return {name: getattr(self, name) for name in IDENTITY_FIELDS if getattr(self, name) is not None}

    @property
    def is_empty(self) -> bool:
        """No criterion at all: such a selector matches every owned number."""
        return not self.identity and not self.marker

    def to_dict(self) -> dict[str, Any]:
        """The fields that are set, JSON-safe (search_pattern as its name)."""
        data: dict[str, Any] = {**self.identity, **self.marker}
        if self.features is not None:
            data["features"] = self.features.split(",")
        if self.search_pattern is not None:
            data["search_pattern"] = _SEARCH_PATTERN_NAMES.get(self.search_pattern, self.search_pattern)
        return data

    def describe(self) -> str:
        """One line for logs, e.g. ``country=GB type=mobile-lvn features=SMS,VOICE
        mo_http_url=https://...``."""
        data = self.to_dict()
        if not data:
            return "<every owned number>"
        return " ".join(
            f"{key}={','.join(val) if isinstance(val, list) else val}" for key, val in data.items()
        )

    def listing_kwargs(self) -> dict[str, Any]:
        """Server-side filter for `iter_owned_numbers` (pattern only; the rest is matched locally)."""
        if self.pattern is None:
            return {}
        return {"pattern": self.pattern, "search_pattern": self.search_pattern}

    def search_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for `iter_available_numbers(country, ...)` (country passed positionally)."""
        return {
            "type": self.type,
            "features": self.features,
            "pattern": self.pattern,
            "search_pattern": self.search_pattern,
        }

    # -- matching --------------------------------------------------------------------------------------------

    def matches_identity(self, number: Any) -> bool:
        """Country, type, features (at least these) and pattern, against an owned or available number."""
        msisdn = _text(field_of(number, "msisdn")).lstrip("+")
        if self.country is not None and _text(field_of(number, "country")).upper() != self.country.upper():
            return False
        if self.type is not None and _text(field_of(number, "type")).lower() != self.type.lower():
            return False
        if self.features is not None:
            wanted = {item.strip().upper() for item in self.features.split(",") if item.strip()}
            if not wanted <= _features_of(number):
                return False
        if self.pattern is not None:
            mode = self.search_pattern or 0
            if mode == 0 and not msisdn.startswith(self.pattern):
                return False
            if mode == 1 and self.pattern not in msisdn:
                return False
            if mode == 2 and not msisdn.endswith(self.pattern):
                return False
        return True

    def matches_marker(self, number: Any) -> bool:
        """Every marker field equals the number's setting (unset reads as ``""``)."""
        for name, wanted in self.marker.items():
            have = _text(field_of(number, name))
            if name == "voice_callback_type":
                have, wanted = have.lower(), wanted.lower()
            if have != wanted:
                return False
        return True

    def matches(self, number: Any) -> bool:
        """Identity and marker: the number belongs to the campaign this selector describes."""
        return self.matches_identity(number) and self.matches_marker(number)
