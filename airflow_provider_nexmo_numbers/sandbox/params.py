"""Parameter parsing with the API's 400 shape: a map of field name -> message, all problems at once.

Blank optional query parameters count as absent. Every unknown parameter is reported back so the caller can
count it in the stats (the real API ignores unknown fields silently, which hid an SDK bug for a year).

`strict=True` (the sandbox's opt-in strict mode) refuses what no evidence says the API refuses: features in
another order than the definition's, booleans other than lower-case `true`/`false`, a lower-case country.
By default these are accepted, as Vonage's own SDK and CLI send them (docs/sandbox.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

from .pool import FEATURES, KPN_FEATURE_FILTERS, NUMBER_TYPES, VONAGE_FEATURE_FILTERS

REQUIRED = "Is required."
MSG_INDEX = "Must be an integer greater than or equal to 1 (index is a 1-based page number, not an offset)."
MSG_SIZE = "Must be an integer between 1 and 100."
MSG_SEARCH_PATTERN = "Must be 0 (starts with), 1 (contains) or 2 (ends with)."
MSG_PATTERN = "Must contain only digits (at most 15)."
MSG_COUNTRY = "Must be a two-letter upper-case ISO 3166-1 alpha-2 country code."
MSG_TYPE = f"Must be one of {', '.join(NUMBER_TYPES)}."
MSG_MSISDN = "Must be an E.164 number without '+': 7 to 15 digits, not starting with 0."
MSG_URL = "Must be an absolute http or https URL."
MSG_BOOL = "Must be true or false (lower case)."
MSG_VOICE_TYPE = "Must be one of sip, tel, app."
MSG_MESSAGES_TYPE = "Must be app."

_COUNTRY = re.compile(r"[A-Z]{2}")
_MSISDN = re.compile(r"[1-9]\d{6,14}")
_DIGITS = re.compile(r"\d{1,15}")
_INT = re.compile(r"[+-]?\d{1,9}")

Errors = dict[str, str]


def feature_message(kpn: bool, strict: bool = True) -> str:
    allowed = KPN_FEATURE_FILTERS if kpn else VONAGE_FEATURE_FILTERS
    if not strict:
        return f"Must be a comma-separated list of {', '.join(FEATURES)}."
    return f"Must be one of {' | '.join(allowed)} (upper case, in this order)."


def unknown_fields(params: Iterable[str], known: frozenset[str]) -> list[str]:
    return [name for name in params if name not in known]


def opt(params: Mapping[str, str], name: str) -> str | None:
    value = params.get(name)
    return value if value else None


def paging(params: Mapping[str, str], errors: Errors) -> tuple[int, int]:
    index = size = None
    raw = opt(params, "index")
    if raw is None:
        index = 1
    elif _INT.fullmatch(raw) and int(raw) >= 1:
        index = int(raw)
    else:
        errors["index"] = MSG_INDEX
    raw = opt(params, "size")
    if raw is None:
        size = 10
    elif _INT.fullmatch(raw) and 1 <= int(raw) <= 100:
        size = int(raw)
    else:
        errors["size"] = MSG_SIZE
    return index or 1, size or 10


def pattern(params: Mapping[str, str], errors: Errors) -> tuple[str | None, int]:
    pat = opt(params, "pattern")
    if pat is not None and not _DIGITS.fullmatch(pat):
        errors["pattern"] = MSG_PATTERN
        pat = None
    raw = opt(params, "search_pattern")
    mode = 0
    if raw is not None:
        if raw in ("0", "1", "2"):
            mode = int(raw)
        else:
            errors["search_pattern"] = MSG_SEARCH_PATTERN
    return pat, mode


def country(params: Mapping[str, str], errors: Errors, *, required: bool, strict: bool = False) -> str | None:
    value = params.get("country")
    if not value:
        if required:
            errors["country"] = REQUIRED
        return None
    if not strict:
        value = value.upper()
    if not _COUNTRY.fullmatch(value):
        errors["country"] = MSG_COUNTRY
        return None
    return value


def msisdn(params: Mapping[str, str], errors: Errors) -> str | None:
    value = params.get("msisdn")
    if not value:
        errors["msisdn"] = REQUIRED
        return None
    if not _MSISDN.fullmatch(value):
        errors["msisdn"] = MSG_MSISDN
        return None
    return value


def number_type(params: Mapping[str, str], errors: Errors) -> str | None:
    value = opt(params, "type")
    if value is not None and value not in NUMBER_TYPES:
        errors["type"] = MSG_TYPE
        return None
    return value


def features(
    params: Mapping[str, str], errors: Errors, *, kpn: bool, strict: bool = False
) -> tuple[str, ...] | None:
    value = opt(params, "features")
    if value is None:
        return None
    if strict:
        if value not in (KPN_FEATURE_FILTERS if kpn else VONAGE_FEATURE_FILTERS):
            errors["features"] = feature_message(kpn)
            return None
        return tuple(value.split(","))
    names = tuple(dict.fromkeys(part.strip().upper() for part in value.split(",")))
    if not all(name in FEATURES for name in names):
        errors["features"] = feature_message(kpn, strict=False)
        return None
    return names


def boolean(params: Mapping[str, str], name: str, errors: Errors, *, strict: bool = False) -> bool | None:
    value = opt(params, name)
    if value is None:
        return None
    if not strict:
        value = value.lower()
    if value not in ("true", "false"):
        errors[name] = MSG_BOOL
        return None
    return value == "true"


def url(params: Mapping[str, str], name: str, errors: Errors) -> str | None:
    value = opt(params, name)
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        errors[name] = MSG_URL
        return None
    return value


def paired(
    params: Mapping[str, str],
    type_name: str,
    value_name: str,
    allowed: tuple[str, ...],
    message: str,
    errors: Errors,
) -> tuple[str | None, str | None]:
    """A (type, value) pair that must be sent together, e.g. voiceCallbackType + voiceCallbackValue."""
    kind, value = opt(params, type_name), opt(params, value_name)
    if kind is not None and kind not in allowed:
        errors[type_name] = message
    elif value is not None and kind is None:
        errors[type_name] = f"Is required when {value_name} is set."
    elif kind is not None and value is None:
        errors[value_name] = f"Is required when {type_name} is set."
    return kind, value
