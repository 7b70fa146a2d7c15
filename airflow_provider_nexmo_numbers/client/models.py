"""Typed results of the Numbers API.

Pydantic models read the wire names (`moHttpUrl`, `voiceCallbackType`, `initialPrice` ...) through aliases
and expose Python names. Reading is tolerant (unknown fields ignored, features normalised, msisdn coerced
to a string) because the API's responses vary between gateways; `to_dict()` gives a JSON-safe dict with
the Python names, which is what operators push to XCom and exports write to tables.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainValidator, StringConstraints

from airflow_provider_nexmo_numbers.client.validation import UPDATE_FIELDS, canonical_features

__all__ = [
    "AvailableNumber",
    "BuyResult",
    "CancelResult",
    "NumberPage",
    "OwnedNumber",
]


def _msisdn_text(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value.strip().lstrip("+") if isinstance(value, str) else value


# Reading a listing validates every field of every number, so the common, already-canonical values are
# handled inside pydantic-core's compiled validator, without a call into Python: the country is stripped
# and upper-cased by string constraints; an msisdn of bare digits matches the first member of a
# left-to-right union and only anything else (an int, '+44 ...') reaches the Python fallback. Features
# need reordering into the API's canonical order, which only Python can do; `canonical_features` answers
# from a memo of the few distinct values an account has. It is the whole validator (a plain one): it always
# returns a new list of strings, so pydantic neither converts the raw value for it nor checks its answer
# again.
Country = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True)]
_Digits = Annotated[str, StringConstraints(pattern=r"^[0-9]+$")]
Msisdn = Annotated[_Digits | Annotated[str, BeforeValidator(_msisdn_text)], Field(union_mode="left_to_right")]
Features = Annotated[list[str], PlainValidator(canonical_features, json_schema_input_type=list[str] | str)]


class _WireModel(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore", frozen=True)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict with Python field names (features as a list, money as strings)."""
        return self.model_dump(mode="json", by_alias=False)


class OwnedNumber(_WireModel):
    """A number the account rents, with its configuration."""

    country: Country
    msisdn: Msisdn
    type: str = ""
    features: Features = Field(default_factory=list)
    mo_http_url: str | None = Field(default=None, alias="moHttpUrl")
    mo_smpp_sys_type: str | None = Field(default=None, alias="moSmppSysType")
    voice_callback_type: str | None = Field(default=None, alias="voiceCallbackType")
    voice_callback_value: str | None = Field(default=None, alias="voiceCallbackValue")
    voice_status_callback: str | None = Field(default=None, alias="voiceStatusCallback")
    messages_callback_type: str | None = Field(default=None, alias="messagesCallbackType")
    messages_callback_value: str | None = Field(default=None, alias="messagesCallbackValue")
    app_id: str | None = None

    def settings(self) -> dict[str, str]:
        """The writable settings as Python names, None read as '' (the API's "not set")."""
        return {name: getattr(self, name) or "" for name in UPDATE_FIELDS}


class AvailableNumber(_WireModel):
    """A number offered for rent by `GET /number/search`; `cost` is the monthly rental in EUR."""

    country: Country
    msisdn: Msisdn
    type: str = ""
    features: Features = Field(default_factory=list)
    cost: Decimal
    initial_price: Decimal | None = Field(default=None, alias="initialPrice")

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        # mode="json" renders Decimal as a string already; make it explicit so the contract does not hinge
        # on it.
        data["cost"] = str(self.cost)
        data["initial_price"] = None if self.initial_price is None else str(self.initial_price)
        return data


T = TypeVar("T", OwnedNumber, AvailableNumber)


class NumberPage(BaseModel, Generic[T]):
    """One page of a listing or a search. `count` is the total across all pages (0 when the API answered
    `{}`)."""

    model_config = ConfigDict(frozen=True)
    count: int
    numbers: list[T]
    index: int
    size: int
    #: False when the response carried no usable `count` (then `count` is only what this page holds, and
    #: paging must not take it for the total).
    count_given: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "index": self.index,
            "size": self.size,
            "numbers": [number.to_dict() for number in self.numbers],
        }


class OwnedNumbersEnvelope(BaseModel):
    """A well-formed answer of `GET /account/numbers`, validated in one call straight from the response
    bytes (`model_validate_json`): no separate JSON decoding, no Python loop per number.

    Only the common shape validates here (an object whose `numbers`, if any, is a list of valid owned
    numbers); anything else fails and the client falls back to its general path, which keeps its tolerance
    (`{}`, odd `count`, non-object items) and its typed errors (an `error-code` other than 200).
    """

    # Only the keys repeat from number to number; caching every value string as well (pydantic's default)
    # spends time on msisdns and callback URLs that never come again (~8% of validating a page).
    model_config = ConfigDict(extra="ignore", frozen=True, cache_strings="keys")
    count: Any = None
    numbers: list[OwnedNumber] | None = None
    error_code: Any = Field(default=None, alias="error-code")


class _WriteResult(BaseModel):
    """Outcome of a buy or cancel of one number; `to_dict()` is its JSON-safe dict."""

    model_config = ConfigDict(frozen=True)
    country: str
    msisdn: str

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class BuyResult(_WriteResult):
    """Outcome of a purchase. `already_owned` is True when the account owned the number without this call's
    purchase being confirmed by a success answer (it was owned before, or an ambiguous failure was
    resolved by finding the number owned); no money was spent twice either way."""

    already_owned: bool = False
    #: True when the API refused this call with 420 and the account owned the number: it was bought before
    #: this call (by an earlier try, or by someone else), never by this request. A ledger decides whose.
    refused_as_owned: bool = False


class CancelResult(_WriteResult):
    """Outcome of a cancellation. `already_released` is True when the account no longer owned the number
    without this call's cancellation being confirmed by a success answer."""

    already_released: bool = False
