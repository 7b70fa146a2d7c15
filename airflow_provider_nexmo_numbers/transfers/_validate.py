"""Construction-time checks shared by the export operators: each error names the argument and the rule."""

from __future__ import annotations

import re
from typing import Any

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
IDENTIFIER_RULE = "letters, digits and underscores, not starting with a digit, at most 63 characters"


def is_templated(value: Any) -> bool:
    """True when the value is only known at run time (a Jinja template or an XComArg): execute() checks it."""
    if isinstance(value, str):
        return "{{" in value or "{%" in value
    from airflow.sdk.definitions.xcom_arg import XComArg  # already loaded by BaseOperator

    return isinstance(value, XComArg)


def check_identifier(field: str, value: Any) -> str:
    """A bare identifier, safe unquoted in DDL/DML on every database (no injection, no quoting rules)."""
    if not isinstance(value, str) or not _IDENTIFIER.match(value):
        raise ValueError(f"{field}: must be a SQL identifier ({IDENTIFIER_RULE}), got {value!r}")
    return value


def check_positive_int(field: str, value: Any, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{field}: must be an integer >= 1, got {value!r}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{field}: must be at most {maximum}, got {value!r}")
    return value


def check_non_negative(field: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ValueError(f"{field}: must be a number >= 0, got {value!r}")
    return float(value)
