"""Validation before the wire.

Bad input must fail before a request is sent (and before money is spent), with an error naming the field
and the rule it broke. Operators call these helpers at the start of `execute()`; the client calls them
again in every operation, so a plain script gets the same protection. Each helper returns the normalised
value that goes on the wire (upper-case country, bare msisdn digits, canonical feature string ...).
"""

from __future__ import annotations

import enum
import functools
import ipaddress
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from airflow_provider_nexmo_numbers.client.errors import NexmoValidationError

__all__ = [
    "DEPRECATED_VOICE_RULE",
    "DEPRECATED_VOICE_TYPE",
    "FEATURE_NAMES",
    "NUMBER_TYPES",
    "UPDATE_FIELDS",
    "VOICE_CALLBACK_TYPES",
    "SearchPattern",
    "canonical_features",
    "country_codes",
    "features_to_list",
    "is_loopback_host",
    "redact_url",
    "require_secure_url",
    "validate_country",
    "validate_features",
    "validate_index",
    "validate_msisdn",
    "validate_msisdn_country",
    "validate_number_type",
    "validate_page_size",
    "validate_pattern",
    "validate_search_pattern",
    "validate_update_changes",
    "validate_url",
    "validate_voice_callback",
]

# Regions of the numbering metadata (phonenumbers, Google's libphonenumber) that are not ISO 3166-1 alpha-2
# country codes: Ascension and Tristan da Cunha (exceptionally reserved) and Kosovo (user-assigned).
_NOT_ISO_3166 = frozenset({"AC", "TA", "XK"})


@functools.lru_cache(maxsize=1)
def country_codes() -> frozenset[str]:
    """The ISO 3166-1 alpha-2 codes of the countries with a telephone numbering plan, from the numbering
    metadata of `phonenumbers` (kept by Google's libphonenumber), not a hand-kept list. Codes without any
    (AQ, BV, HM ...) have no numbers to rent. Imported here, on first use, so importing this module stays
    cheap for DAG files."""
    import phonenumbers

    return frozenset(phonenumbers.SUPPORTED_REGIONS) - _NOT_ISO_3166


def __getattr__(name: str) -> Any:
    if name == "ISO_3166_ALPHA2":  # the former hand-kept constant, now computed on first use
        return country_codes()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


NUMBER_TYPES: tuple[str, ...] = ("landline", "landline-toll-free", "mobile-lvn")
VOICE_CALLBACK_TYPES: tuple[str, ...] = ("sip", "tel", "app")
FEATURE_NAMES: tuple[str, ...] = ("SMS", "VOICE", "MMS")
#: Numbers may still carry it, but writing it fails: the real API answered 500 (nyaruka/rapidpro #2914).
DEPRECATED_VOICE_TYPE = "app"
DEPRECATED_VOICE_RULE = (
    "must not be 'app': that voice callback type is deprecated and the API answers 500 to it; link the "
    "number to the application with app_id=<application id> (Vonage flavour) instead"
)

# The API expects these exact strings; note that the order is not alphabetical nor consistent ("SMS,VOICE"
# but "SMS,MMS,VOICE"), so it is a lookup table rather than a sort.
_CANONICAL_FEATURES: dict[frozenset[str], str] = {
    frozenset({"SMS"}): "SMS",
    frozenset({"VOICE"}): "VOICE",
    frozenset({"SMS", "VOICE"}): "SMS,VOICE",
    frozenset({"MMS"}): "MMS",
    frozenset({"SMS", "MMS"}): "SMS,MMS",
    frozenset({"VOICE", "MMS"}): "VOICE,MMS",
    frozenset({"SMS", "MMS", "VOICE"}): "SMS,MMS,VOICE",
}

# Python name -> wire name of the writable number settings (POST /number/update).
UPDATE_FIELDS: dict[str, str] = {
    "mo_http_url": "moHttpUrl",
    "mo_smpp_sys_type": "moSmppSysType",
    "voice_callback_type": "voiceCallbackType",
    "voice_callback_value": "voiceCallbackValue",
    "voice_status_callback": "voiceStatusCallback",
    "app_id": "app_id",
}

_MSISDN_RE = re.compile(r"^[1-9]\d{6,14}$")
_DIGITS_RE = re.compile(r"^\d{1,15}$")
_INT_RE = re.compile(r"^[+-]?\d+$")


class SearchPattern(enum.IntEnum):
    """How `pattern` matches a number: the API's 0/1/2 with readable names."""

    STARTS_WITH = 0
    CONTAINS = 1
    ENDS_WITH = 2


def _fail(field: str, rule: str, value: Any) -> NexmoValidationError:
    return NexmoValidationError(f"invalid {field} {value!r}: {rule}", field=field, rule=rule)


def validate_country(value: Any, field: str = "country") -> str:
    """ISO 3166-1 alpha-2, any case in, upper case out."""
    if not isinstance(value, str):
        raise _fail(field, "must be an ISO 3166-1 alpha-2 country code (a 2-letter string)", value)
    code = value.strip().upper()
    if len(code) != 2 or code not in country_codes():
        raise _fail(
            field,
            "must be an ISO 3166-1 alpha-2 code of a country with telephone numbers, such as 'NL' or 'GB'",
            value,
        )
    return code


def _calling_code(msisdn: str) -> int | None:
    """The country calling code an E.164 number starts with (1 to 3 digits; the codes are prefix-free),
    or None when no code is assigned to its first digits."""
    import phonenumbers

    for length in (1, 2, 3):
        code = int(msisdn[:length])
        if code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            return code
    return None


def validate_msisdn_country(msisdn: str, country: str, field: str = "msisdn") -> str:
    """`msisdn` (already validated) must start with a country calling code of `country` (already
    validated): 447700900000 is a GB number, and the API answers a bare 420 when it is bought as NL. Only
    the calling code is checked (+1 is shared by the US, Canada and the Caribbean; a Dutch 13-digit 3197
    M2M number is NL), from the numbering metadata of `phonenumbers`, imported on first use."""
    import phonenumbers

    code = _calling_code(msisdn)
    if code is not None and country in phonenumbers.region_codes_for_country_code(code):
        return msisdn
    expected = phonenumbers.country_code_for_region(country)
    found = f"+{code}" if code is not None else "no assigned country calling code"
    raise NexmoValidationError(
        f"invalid {field} {msisdn!r} for country {country}: it starts with {found}, "
        f"not {country}'s +{expected}",
        field=field,
        rule=f"must start with the country calling code of {country} (+{expected})",
        msisdn=msisdn,
    )


def _digit_text(value: str | int) -> str:
    """A number as typed ('+31 6 1234 5678') reduced to its text without spaces and the leading '+'."""
    text = str(value).replace(" ", "").strip()
    return text[1:] if text.startswith("+") else text


def validate_msisdn(value: Any, field: str = "msisdn") -> str:
    """E.164 digits without '+': 7 to 15 digits, no leading 0. A leading '+' and spaces are stripped."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise _fail(field, "must be a string of 7 to 15 digits (E.164 without '+')", value)
    text = _digit_text(value)
    if text == "":
        raise _fail(field, "must be 7 to 15 digits (E.164 without '+'), got an empty value", value)
    if not text.isascii() or not text.isdigit():
        raise _fail(field, "must contain digits only (E.164 without '+', e.g. '31612345678')", value)
    if not _MSISDN_RE.match(text):
        if text.startswith("0"):
            raise _fail(
                field, "must not start with 0 (use the international form with the country code)", value
            )
        raise _fail(field, "must be 7 to 15 digits long", value)
    return text


def _as_int(value: Any, field: str, rule: str) -> int:
    if isinstance(value, bool):
        raise _fail(field, rule, value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INT_RE.match(value.strip()):
        return int(value.strip())
    raise _fail(field, rule, value)


def validate_page_size(value: Any, field: str = "size") -> int:
    """Page size: an integer from 1 to 100 (the API's maximum)."""
    rule = "must be an integer from 1 to 100"
    size = _as_int(value, field, rule)
    if not 1 <= size <= 100:
        raise _fail(field, rule, value)
    return size


def validate_index(value: Any, field: str = "index") -> int:
    """Page index: 1-based page number (not an offset), >= 1."""
    rule = "must be an integer >= 1 (a 1-based page number, not an offset)"
    index = _as_int(value, field, rule)
    if index < 1:
        raise _fail(field, rule, value)
    return index


def validate_pattern(value: Any, field: str = "pattern") -> str | None:
    """1 to 15 digits to match against numbers ('+' and spaces stripped); None = no filter."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise _fail(field, "must be a string of 1 to 15 digits", value)
    text = _digit_text(value)
    if text == "":
        return None
    if not text.isascii() or not _DIGITS_RE.match(text):
        raise _fail(field, "must be a string of 1 to 15 digits", value)
    return text


def validate_search_pattern(value: Any, field: str = "search_pattern") -> int | None:
    """0/1/2, a `SearchPattern`, or starts_with / contains / ends_with (any case); None = API default."""
    if value is None:
        return None
    rule = "must be 0, 1, 2 or one of 'starts_with', 'contains', 'ends_with'"
    if isinstance(value, SearchPattern):
        return int(value)
    if isinstance(value, str):
        word = value.strip().lower().replace("-", "_").replace(" ", "_")
        names = {"starts_with": 0, "contains": 1, "anywhere": 1, "ends_with": 2}
        if word in names:
            return names[word]
    number = _as_int(value, field, rule)
    if number not in (0, 1, 2):
        raise _fail(field, rule, value)
    return number


def validate_number_type(value: Any, field: str = "type") -> str | None:
    """One of landline, landline-toll-free, mobile-lvn (any case, '_' for '-'); None = API default."""
    if value is None:
        return None
    rule = "must be one of " + ", ".join(NUMBER_TYPES)
    if not isinstance(value, str):
        raise _fail(field, rule, value)
    text = value.strip().lower().replace("_", "-")
    if text not in NUMBER_TYPES:
        raise _fail(field, rule, value)
    return text


def _feature_set(value: Any, field: str) -> frozenset[str] | None:
    rule = "must be SMS, VOICE and/or MMS as a list or a comma-separated string"
    if value is None:
        return None
    if isinstance(value, str):
        items: Iterable[Any] = value.split(",")
    elif isinstance(value, Iterable) and not isinstance(value, (bytes, Mapping)):
        items = value
    else:
        raise _fail(field, rule, value)
    names = []
    for item in items:
        if not isinstance(item, str):
            raise _fail(field, rule, value)
        name = item.strip().upper()
        if name:
            names.append(name)
    if not names:
        return None
    unknown = sorted(set(names) - set(FEATURE_NAMES))
    if unknown:
        raise _fail(field, f"unknown feature(s) {', '.join(unknown)}; allowed: SMS, VOICE, MMS", value)
    return frozenset(names)


def validate_features(value: Any, field: str = "features") -> str | None:
    """Features in any order or case, as a list or a comma string -> the API's canonical string.

    E.g. ['voice', 'sms'] -> 'SMS,VOICE'. None or empty means no filter.
    """
    names = _feature_set(value, field)
    if names is None:
        return None
    return _CANONICAL_FEATURES[names]


# canonical_features runs for every number read, and an account has only a handful of distinct feature
# values: results are remembered per raw value (a string, or a list of strings as a tuple). Bounded, so odd
# data cannot grow it; entries are tuples and callers get a fresh list each time.
_FEATURES_MEMO: dict[str | tuple[str, ...], tuple[str, ...]] = {}
_FEATURES_MEMO_LIMIT = 256


def canonical_features(value: Any) -> list[str]:
    """Tolerant form for data coming *from* the API: canonical order for known features, unknown ones kept
    (upper case, sorted) at the end, so a new feature on the wire does not break reading the inventory."""
    try:  # the hot path (a value seen before) is one lookup; only all-string values are ever stored
        return [*_FEATURES_MEMO[tuple(value) if type(value) is list else value]]
    except (KeyError, TypeError):  # new, or unhashable items (computed every time, never remembered)
        pass
    result = _canonical_features(value)
    if len(_FEATURES_MEMO) < _FEATURES_MEMO_LIMIT and (
        type(value) is str or (type(value) is list and all(type(item) is str for item in value))
    ):
        _FEATURES_MEMO[tuple(value) if type(value) is list else value] = tuple(result)
    return result


def _canonical_features(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, (str, list, tuple)):
        raise ValueError("features must be a list of feature names or a comma-separated string")
    raw = value.split(",") if isinstance(value, str) else list(value)
    names = {str(item).strip().upper() for item in raw if str(item).strip()}
    known = frozenset(names & set(FEATURE_NAMES))
    head = _CANONICAL_FEATURES[known].split(",") if known else []
    return head + sorted(names - set(FEATURE_NAMES))


def features_to_list(value: str | None) -> list[str]:
    """'SMS,VOICE' -> ['SMS', 'VOICE']."""
    return value.split(",") if value else []


def is_loopback_host(host: str | None) -> bool:
    """True for localhost and loopback IP addresses (127.0.0.0/8, ::1)."""
    if not host:
        return False
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def validate_url(field: str, value: Any, *, allow_empty: bool = True) -> str:
    """An absolute http(s) URL with a host (a webhook the API will call). '' is allowed to clear a setting."""
    rule = "must be an absolute http:// or https:// URL with a host" + (
        ", or '' to clear" if allow_empty else ""
    )
    if not isinstance(value, str):
        raise _fail(field, rule, value)
    text = value.strip()
    if text == "" and allow_empty:
        return ""
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        raise _fail(field, rule, value) from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or any(c.isspace() for c in text):
        raise _fail(field, rule, value)
    if parts.username is not None or parts.password is not None:
        # A password in a URL ends up in plan tables, XComs, rendered fields and exports; refuse it here,
        # where it enters, rather than chase it through every place that prints a URL.
        raise NexmoValidationError(
            f"{field} must not carry credentials (user:password@) in the URL: "
            f"{redact_url(text)!r}; authenticate the webhook another way (a secret path or header)",
            field=field,
            rule="no user:password@ in URLs",
        )
    return text


def redact_url(url: str | None) -> str | None:
    """The URL with any user:password@ replaced by ***@, for URLs we did not validate (read from the API).

    Webhook URLs configured outside this provider may carry credentials; whatever we print, return or export
    shows them as ***@ instead.
    """
    # Credentials live in the authority, which only follows a "//": a SIP URI's user@host (on every number
    # with a SIP callback) has none, so most values are answered without parsing them (exports redact every
    # URL field of every row).
    if not url or "@" not in url or "//" not in url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.username is None and parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=f"***@{host}").geturl()


def require_secure_url(field: str, value: Any) -> str:
    """An absolute URL that may carry credentials: https, or plain http only to a loopback host.

    Plain http would send the client secret and bearer tokens in clear text over the network; the sandbox
    on 127.0.0.1 is the one legitimate use.
    """
    url = validate_url(field, value, allow_empty=False)
    parts = urlsplit(url)
    if parts.scheme.lower() == "http" and not is_loopback_host(parts.hostname):
        raise NexmoValidationError(
            f"refusing {field} {url!r}: plain http:// would send the client secret and access tokens "
            f"unencrypted to {parts.hostname!r}; use https:// (http is only allowed for loopback hosts "
            "such as 127.0.0.1 or localhost, e.g. the local sandbox)",
            field=field,
            rule="https required for non-loopback hosts",
        )
    return url


def validate_voice_callback(
    voice_type: Any, voice_value: Any, *, type_field: str = "voice_callback_type"
) -> tuple[str | None, str | None]:
    """The voice callback type and value travel together: both set, both cleared ('') or both absent (None).

    Returns the normalised (type, value). A value needs its type (sip -> 'sip:' URI, tel -> an E.164
    number, app -> an application id); a type needs its value. Clearing one clears both.
    """
    value_field = "voice_callback_value"
    if voice_type is None and voice_value is None:
        return None, None
    if voice_type is not None and not isinstance(voice_type, str):
        raise _fail(type_field, "must be one of sip, tel (or '' to clear)", voice_type)
    if voice_value is not None and not isinstance(voice_value, str):
        raise _fail(value_field, "must be a string (or '' to clear)", voice_value)
    vtype = voice_type.strip().lower() if voice_type is not None else None
    vvalue = voice_value.strip() if voice_value is not None else None
    if not vtype and not vvalue:
        return "", ""  # clearing either clears both: a value without its type is meaningless to the API
    if not vtype:
        raise _fail(
            value_field,
            "requires voice_callback_type (sip or tel) in the same update",
            voice_value,
        )
    if vtype == DEPRECATED_VOICE_TYPE:
        raise _fail(type_field, DEPRECATED_VOICE_RULE, voice_type)
    if vtype not in VOICE_CALLBACK_TYPES:
        raise _fail(type_field, "must be one of sip, tel (or '' to clear)", voice_type)
    if not vvalue:
        raise _fail(type_field, "requires voice_callback_value in the same update", voice_type)
    if vtype == "sip" and not vvalue.lower().startswith(("sip:", "sips:")):
        raise _fail(value_field, "must be a SIP URI starting with 'sip:' when the type is sip", voice_value)
    if vtype == "tel":
        vvalue = validate_msisdn(vvalue, field=value_field)
    return vtype, vvalue


def validate_update_changes(changes: Mapping[str, Any]) -> dict[str, str]:
    """Validate the keyword changes of an update; returns Python-named, normalised values.

    '' clears a setting; None means "leave it as it is" (so callers can pass optional arguments straight
    through). Only the given keys are returned, so the caller can merge them over the current settings.
    """
    changes = {key: value for key, value in changes.items() if value is not None}  # None = leave as is
    unknown = sorted(set(changes) - set(UPDATE_FIELDS))
    if unknown:
        raise NexmoValidationError(
            f"unknown update field(s) {', '.join(unknown)}; allowed: {', '.join(UPDATE_FIELDS)}",
            field=unknown[0],
            rule="not an updatable number setting",
        )
    result: dict[str, str] = {}
    for name in ("mo_http_url", "voice_status_callback"):
        if name in changes:
            result[name] = validate_url(name, changes[name])
    for name in ("mo_smpp_sys_type", "app_id"):
        if name in changes:
            value = changes[name]
            if not isinstance(value, str):
                raise _fail(name, "must be a string (or '' to clear)", value)
            result[name] = value.strip()
    if "voice_callback_type" in changes or "voice_callback_value" in changes:
        vtype, vvalue = validate_voice_callback(
            changes.get("voice_callback_type", ""), changes.get("voice_callback_value", "")
        )
        result["voice_callback_type"] = vtype or ""
        result["voice_callback_value"] = vvalue or ""
    return result
