"""Shared base of every Nexmo Numbers operator: connection id, lazy hook, and "validate now or later".

DAG files are parsed over and over, so this module imports nothing from the hook or the client at module
level: the hook is built on first use inside `execute()`, and the client's validation helpers are imported
only when there is a concrete (non-templated) value to check.

Validation runs twice, on purpose:
- at construction, for every value that is already concrete, so a typo fails the DAG import with a message
  naming the field instead of failing a task at 3 a.m.;
- at the start of `execute()`, after templates are rendered and before the first request, for every value
  (cheap, and it catches what a template or an XCom produced).

Subclasses implement `validate_inputs()` with calls to `self.check_input(...)` and `self.fail_input(...)`,
call `self.validate_at_construction()` at the end of their `__init__` and
`self.validate_before_requests()` first thing in `execute()`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, NoReturn

from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException, BaseOperator

if TYPE_CHECKING:
    from airflow_provider_nexmo_numbers.hooks.nexmo_numbers import NexmoNumbersHook
    from airflow_provider_nexmo_numbers.ledger.core import Ledger

DEFAULT_CONN_ID = "nexmo_numbers_default"

_PLAIN_TYPES = (str, bytes, int, float, bool, Decimal, type(None))
# The number criteria of searches and listings, each with the name of the client validator that checks it.
_CRITERIA_VALIDATORS = {
    "country": "validate_country",
    "type": "validate_number_type",
    "features": "validate_features",
    "pattern": "validate_pattern",
    "search_pattern": "validate_search_pattern",
}


def is_late(value: Any) -> bool:
    """Whether `value` only becomes concrete at run time (a Jinja template, an XComArg, or a container of
    them).

    Anything that is not plain data (e.g. an `XComArg` or a mapped argument) is resolved by Airflow when the
    task renders its templates, so it counts as late too.
    """
    if isinstance(value, str):
        return "{{" in value or "{%" in value
    if isinstance(value, _PLAIN_TYPES):
        return False
    if isinstance(value, (list, tuple, set, frozenset)):
        return any(is_late(item) for item in value)
    if isinstance(value, dict):
        return any(is_late(item) for item in value.values())
    return True


def validation() -> Any:
    """The client's validation module, imported on demand (it may pull in pydantic)."""
    from airflow_provider_nexmo_numbers.client import validation as module

    return module


def validation_error(field: str, rule: str, message: str | None = None) -> Exception:
    """Build the client's `NexmoValidationError`, so operators and client report bad input the same way."""
    from airflow_provider_nexmo_numbers.client.errors import NexmoValidationError

    return NexmoValidationError(message, field=field, rule=rule)


def parse_money(field: str, value: Any) -> Decimal:
    """A non-negative, finite amount of money as a Decimal, from str/int/Decimal (floats go through str()).

    Costs arrive from the API as strings ("1.25"); Decimals from strings compare without float surprises.
    """
    if isinstance(value, bool):
        raise validation_error(field, "must be a number of EUR (e.g. '1.25'), not a boolean")
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise validation_error(field, f"must be a number of EUR (e.g. '1.25'), got {value!r}") from None
    if not amount.is_finite():
        raise validation_error(field, f"must be a finite amount, got {value!r}")
    if amount < 0:
        raise validation_error(field, f"must be >= 0, got {value!r}")
    return amount


def parse_int(field: str, value: Any, *, minimum: int = 1, maximum: int | None = None) -> int:
    """An int within bounds, accepting digit strings because rendered templates are strings."""
    if isinstance(value, bool):
        raise validation_error(field, f"must be an integer >= {minimum}, not a boolean")
    try:
        number = int(str(value).strip()) if isinstance(value, str) else int(value)
        if not isinstance(value, (int, str)) and number != value:
            raise ValueError
    except (TypeError, ValueError):
        raise validation_error(field, f"must be an integer >= {minimum}, got {value!r}") from None
    if number < minimum or (maximum is not None and number > maximum):
        bounds = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
        raise validation_error(field, f"must be {bounds}, got {number}")
    return number


def parse_bool(field: str, value: Any) -> bool:
    """A flag, accepting the strings a template renders ("True", "false", "1", "0")."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "1", "yes"}:
        return True
    if isinstance(value, str) and value.strip().lower() in {"false", "0", "no", ""}:
        return False
    raise validation_error(field, f"must be true or false, got {value!r}")


def open_task_ledger(task: BaseOperator, ledger_conn_id: str | None) -> Ledger:
    """The opened ledger for a money-moving task, or a failed task before any request to the API.

    A ledger that is not configured safely for the executor fails without retries (a retry would find the
    same configuration); an unreachable one fails with retries (it may come back).
    """
    from airflow_provider_nexmo_numbers.ledger.airflow import LedgerConfigError, open_ledger
    from airflow_provider_nexmo_numbers.ledger.core import LedgerError

    try:
        return open_ledger(ledger_conn_id)
    except LedgerConfigError as err:
        raise AirflowFailException(f"{type(task).__name__} {task.task_id}: {err}") from err
    except LedgerError as err:
        raise AirflowException(
            f"{type(task).__name__} {task.task_id}: {err}; nothing was bought or released"
        ) from err


class NexmoBaseOperator(BaseOperator):
    """Base class of the Nexmo Numbers operators.

    :param nexmo_conn_id: Airflow connection of type ``nexmo_numbers`` (templated).
    """

    template_fields: Sequence[str] = ("nexmo_conn_id",)
    ui_color = "#c9e8ff"

    def __init__(self, *, nexmo_conn_id: str = DEFAULT_CONN_ID, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.nexmo_conn_id = nexmo_conn_id
        self._validating_at_runtime = False

    @functools.cached_property
    def hook(self) -> NexmoNumbersHook:
        """The hook, built on first use (never at parse time: it reads a Connection)."""
        from airflow_provider_nexmo_numbers.hooks.nexmo_numbers import NexmoNumbersHook

        return NexmoNumbersHook(nexmo_conn_id=self.nexmo_conn_id)

    # -- validation --

    def validate_inputs(self) -> None:
        """Check the operator's inputs; override in subclasses.

        Use `check_input()` for single fields (it skips values that are still templates at construction) and
        `fail_input()` for rules across fields (guard them with `any_late()`).
        """

    def validate_at_construction(self) -> None:
        """Validate every input that is already concrete. Call at the end of a subclass's `__init__`."""
        self._validating_at_runtime = False
        self.validate_inputs()

    def validate_before_requests(self) -> None:
        """Validate every (now rendered) input; call first in `execute()`, before any request.

        Bad input fails the task without retries: a retry would render the same value again.
        """
        from airflow_provider_nexmo_numbers.client.errors import NexmoValidationError

        self._validating_at_runtime = True
        try:
            self.validate_inputs()
        except NexmoValidationError as err:
            raise AirflowFailException(f"{type(self).__name__} {self.task_id}: {err}") from err

    @property
    def validating_at_runtime(self) -> bool:
        """True inside `validate_before_requests()`, i.e. when every value has been rendered."""
        return self._validating_at_runtime

    def any_late(self, *fields: str) -> bool:
        """Whether a cross-field rule must wait: one of `fields` is still a template (construction only)."""
        return not self._validating_at_runtime and any(is_late(getattr(self, f)) for f in fields)

    def check_input(self, field: str, validator: Callable[[Any], Any], *, optional: bool = True) -> Any:
        """Run `validator(value)` on attribute `field` now, unless the value is still a template.

        Returns the validator's result (the normalized value), the raw value when the check had to wait, or
        None for an optional field that was not given.
        """
        value = getattr(self, field)
        if value is None and optional:
            return None
        if not self._validating_at_runtime and is_late(value):
            return value
        return validator(value)

    def check_criteria(self, *, country_required: bool = True) -> None:
        """`check_input()` on the number criteria (country, type, features, pattern, search_pattern) with the
        client's validators."""
        for name, validator in _CRITERIA_VALIDATORS.items():
            optional = name != "country" or not country_required
            self.check_input(name, lambda v, f=validator: getattr(validation(), f)(v), optional=optional)

    def criteria_kwargs(self) -> dict[str, Any]:
        """type, features, pattern and search_pattern as keyword arguments of the client's searches."""
        return {name: getattr(self, name) for name in _CRITERIA_VALIDATORS if name != "country"}

    def fail_input(self, field: str, rule: str) -> NoReturn:
        """Reject the input `field` because it breaks `rule` (a cross-field or operator-level rule)."""
        raise validation_error(field, rule)
