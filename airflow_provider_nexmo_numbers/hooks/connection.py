"""The connection's settings, declared once: the parser of the extras, their defaults and the form fields.

`ConnectionSettings` is the one definition. Each field carries its form label, description, placeholder,
form type and the rule quoted in errors; from it come the hook's parser (`settings_from_extra`, errors name
`extra.<name>`), the client's keyword arguments, the provider info's declarative `conn-fields` and
`ui-field-behaviour` (Airflow >= 3.2, `provider_info_connection_form`) and the Airflow 3.1 fallback
(`form_widgets`, wtforms fields built from the same fields).

Form rules learnt on Airflow 3.3 (issue 14): no `default` in a field's schema (the form would pre-fill it and
save it into every connection), one JSON type plus null per field (several types render a multi-line JSON
box), and no sensitive word in an extra's name (Airflow masks extras named *token*, *secret*, ...: the
token endpoint is `oauth_url`; the old `token_url` is still read).

Imports only pydantic (which Airflow already loads) and the client's import-free defaults and validation.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from airflow_provider_nexmo_numbers.client.defaults import (
    API_FLAVOURS,
    DEFAULT_API,
    DEFAULT_BACKOFF_BASE,
    DEFAULT_BACKOFF_MAX,
    DEFAULT_BASE_URLS,
    DEFAULT_MAX_RETRIES,
    DEFAULT_MAX_RETRY_TIME,
    DEFAULT_TIMEOUT,
    DEFAULT_TOKEN_URL,
    KPN,
    VONAGE,
)

__all__ = [
    "EXTRA_ALIASES",
    "KNOWN_EXTRAS",
    "ConnectionSettings",
    "form_widgets",
    "provider_info_connection_form",
    "settings_from_extra",
    "ui_field_behaviour",
]

_TRUE = {"true", "1", "yes", "on", "y", "t"}
_FALSE = {"false", "0", "no", "off", "n", "f"}


def _number(value: Any) -> Any:
    """Booleans, lists and the like are not numbers (pydantic's lax mode would take True as 1)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError("not a number")
    return value


def _timeout(value: Any) -> tuple[float, float]:
    """A number, a numeric string, 'connect,read', a [connect, read] list or {"connect":..,"read":..}."""
    if isinstance(value, Mapping):
        value = [value.get("connect"), value.get("read")]
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",")] if "," in value else [value.strip()]
    items = list(value) if isinstance(value, (list, tuple)) else [value]
    if len(items) not in (1, 2):
        raise ValueError("one or two numbers")
    seconds = []
    for item in items:
        number = float(_number(item))
        if not 0 < number < float("inf"):
            raise ValueError("seconds > 0")
        seconds.append(number)
    return (seconds[0], seconds[-1])


def _verify(value: Any) -> bool | str:
    """true/false (also as strings), or the path of a CA bundle."""
    if isinstance(value, bool):
        return value
    if not isinstance(value, str):
        raise ValueError("true, false or a path")
    text = value.strip().lower()
    return True if text in _TRUE else False if text in _FALSE else value.strip()


def _url(value: Any) -> str:
    from airflow_provider_nexmo_numbers.client.validation import require_secure_url

    return require_secure_url("extra.oauth_url", str(value).strip())


def _form(label: str, rule: str, kind: str, placeholder: str) -> Any:
    """The form and error metadata of a field, kept beside its type in the model."""
    return {"label": label, "rule": rule, "form_type": kind, "placeholder": placeholder}


_Number = Annotated[float, BeforeValidator(_number)]


class ConnectionSettings(BaseModel):
    """What a `nexmo_numbers` connection's extras hold, with the client's defaults.

    Blank values (None, "", whitespace) mean "not set": the default applies. Unknown keys are ignored here
    (the hook warns about them).
    """

    # defer_build: the validator is built on the first parse (in a task), not when Airflow reads the
    # provider info at start-up of every component (only the fields are needed there).
    model_config = ConfigDict(
        frozen=True, extra="ignore", allow_inf_nan=False, populate_by_name=True, defer_build=True
    )

    api: Literal["kpn", "vonage"] = Field(
        DEFAULT_API,
        description=(
            "kpn (default): the KPN API Store, with Client ID and Client secret of your KPN project "
            "(OAuth2). vonage: Vonage direct (https://rest.nexmo.com), with your Vonage API key as "
            "Client ID and API secret as Client secret (HTTP Basic auth); only this one reaches "
            "applications (app_id), "
            "subaccounts, owned-number filters and the balance."
        ),
        json_schema_extra=_form("API", f"must be one of {', '.join(API_FLAVOURS)}", "enum", KPN),
    )
    oauth_url: Annotated[str, BeforeValidator(_url)] | None = Field(
        None,
        validation_alias=AliasChoices("oauth_url", "token_url"),
        description=(
            "KPN only: the OAuth2 client-credentials token endpoint. Default: KPN's "
            f"({DEFAULT_TOKEN_URL}), or the same path on the Base URL's host when a Base URL is set. "
            "https required except for loopback hosts. (Read from the old extra token_url too.)"
        ),
        json_schema_extra=_form(
            "OAuth token URL (KPN)",
            "must be an https URL (http only for loopback hosts)",
            "string",
            DEFAULT_TOKEN_URL,
        ),
    )
    timeout: Annotated[tuple[float, float], BeforeValidator(_timeout)] = Field(
        DEFAULT_TIMEOUT,
        description="Connect and read timeout of every request: one number for both, or 'connect,read'.",
        json_schema_extra=_form(
            "Timeout (seconds)",
            "must be seconds > 0, or 'connect,read' (e.g. '5,30')",
            "string",
            ",".join(f"{t:g}" for t in DEFAULT_TIMEOUT),
        ),
    )
    max_retries: Annotated[int, BeforeValidator(_number)] = Field(
        DEFAULT_MAX_RETRIES,
        ge=0,
        strict=False,
        description=(
            "Retries after the first attempt for 429, 5xx and connection errors (purchases are never "
            "retried blindly)."
        ),
        json_schema_extra=_form(
            "Max retries", "must be an integer >= 0", "integer", str(DEFAULT_MAX_RETRIES)
        ),
    )
    max_retry_time: _Number = Field(
        DEFAULT_MAX_RETRY_TIME,
        gt=0,
        description=(
            "Time budget of one call, its retries and waits included: a retry whose wait would cross it "
            "is not made."
        ),
        json_schema_extra=_form(
            "Max retry time (seconds)",
            "must be seconds > 0 (the time budget of one call, its retries and waits)",
            "number",
            f"{DEFAULT_MAX_RETRY_TIME:g}",
        ),
    )
    backoff_base: _Number = Field(
        DEFAULT_BACKOFF_BASE,
        ge=0,
        description=(
            "Wait before the first retry when the server sends no Retry-After; doubled for each further "
            "retry up to Backoff max, with random jitter."
        ),
        json_schema_extra=_form(
            "Backoff base (seconds)",
            "must be seconds >= 0 (the wait before the first retry, doubled per retry)",
            "number",
            f"{DEFAULT_BACKOFF_BASE:g}",
        ),
    )
    backoff_max: _Number = Field(
        DEFAULT_BACKOFF_MAX,
        ge=0,
        description="Longest wait between two retries.",
        json_schema_extra=_form(
            "Backoff max (seconds)",
            "must be seconds >= 0 (the longest wait between two retries)",
            "number",
            f"{DEFAULT_BACKOFF_MAX:g}",
        ),
    )
    rate_limit: _Number | None = Field(
        None,  # client.ratelimit.DEFAULT_RATE_LIMIT (a test keeps them equal)
        ge=0,
        description=(
            "Empty (default): pace by the quota the API states in its quota-* headers, shared by every "
            "worker with the same client id, never a 429. A number caps each worker process at that many "
            "requests/second on top; 0 disables client-side pacing."
        ),
        json_schema_extra=_form(
            "Rate limit (requests/second)",
            "must be a number of requests per second >= 0 (0 disables the client-side limit)",
            "number",
            "",
        ),
    )
    verify_ssl: Annotated[bool | str, BeforeValidator(_verify)] = Field(
        True,
        description="Verify the server's TLS certificate (or the path of a CA bundle, in the Extra JSON).",
        json_schema_extra=_form(
            "Verify SSL", "must be true, false or the path of a CA bundle", "boolean", "true"
        ),
    )

    def client_kwargs(self) -> dict[str, Any]:
        """The client's keyword arguments for these settings (host and credentials are the hook's)."""
        kwargs = self.model_dump(exclude={"oauth_url"})
        if self.oauth_url is not None:
            kwargs["token_url"] = self.oauth_url
        return kwargs


_FIELDS = ConnectionSettings.model_fields
#: Old extra names still read (the first is the current name).
EXTRA_ALIASES: dict[str, tuple[str, ...]] = {"oauth_url": ("oauth_url", "token_url")}
KNOWN_EXTRAS: tuple[str, ...] = (*_FIELDS, "token_url")


def _meta(name: str) -> dict[str, Any]:
    return dict(_FIELDS[name].json_schema_extra or {})  # type: ignore[arg-type]


def settings_from_extra(conn_id: str, extra: Mapping[str, Any]) -> ConnectionSettings:
    """Parse a connection's extras; a bad value raises `NexmoValidationError` naming `extra.<name>`."""
    from airflow_provider_nexmo_numbers.client.errors import NexmoValidationError

    given = {
        key: value
        for key, value in extra.items()
        if value is not None and not (isinstance(value, str) and not value.strip())
    }
    if "oauth_url" in given:
        given.pop("token_url", None)  # the new name wins
    try:
        return ConnectionSettings.model_validate(given)
    except ValidationError as error:
        first = error.errors()[0]
        name = str(first["loc"][0]) if first["loc"] else "extra"
        field = "oauth_url" if name == "token_url" else name
        key = next((k for k in EXTRA_ALIASES.get(field, (field,)) if k in given), field)
        context = first.get("ctx", {}).get("error")
        if isinstance(context, NexmoValidationError):  # a URL rule: keep its explanation (https ...)
            raise NexmoValidationError(
                f"connection {conn_id!r}: {context}".replace("extra.oauth_url", f"extra.{key}"),
                field=f"extra.{key}",
                rule=context.rule,
            ) from None
        rule = _meta(field).get("rule", first["msg"])
        raise NexmoValidationError(
            f"connection {conn_id!r}: extra.{key} {rule} (got {given.get(key)!r})",
            field=f"extra.{key}",
            rule=rule,
        ) from None


# -- the connection form -------------------------------------------------------------------------------

_HIDDEN = ["schema", "port"]
_RELABELING = {
    "host": "Base URL",
    "login": "Client ID (KPN) / API key (Vonage)",
    "password": "Client secret (KPN) / API secret (Vonage)",
}


def ui_field_behaviour() -> dict[str, Any]:
    """Hidden fields, labels and placeholders, as Airflow's `get_ui_field_behaviour()` returns them."""
    return {
        "hidden_fields": list(_HIDDEN),
        "relabeling": dict(_RELABELING),
        "placeholders": {
            "host": f"{DEFAULT_BASE_URLS[KPN]} (KPN) or {DEFAULT_BASE_URLS[VONAGE]} (Vonage)",
            "login": "KPN client id, or Vonage API key",
            "password": "KPN client secret, or Vonage API secret",
            **{name: _meta(name)["placeholder"] for name in _FIELDS},
        },
    }


def _schema(name: str) -> dict[str, Any]:
    meta = _meta(name)
    kind = meta["form_type"]
    if kind == "enum":
        return {"type": ["string", "null"], "enum": list(API_FLAVOURS)}
    schema: dict[str, Any] = {"type": [kind, "null"]}
    if kind == "string":  # the 3.3 form shows no placeholder for extras: offer the default to pick
        schema["examples"] = [meta["placeholder"]]
    return schema


def provider_info_connection_form() -> dict[str, Any]:
    """`ui-field-behaviour` and `conn-fields` of the provider info (read by Airflow >= 3.2)."""
    behaviour = ui_field_behaviour()
    fields = {}
    for name, info in _FIELDS.items():
        meta = _meta(name)
        shown = meta["placeholder"] and name not in ("api", "oauth_url")
        default = f" Default: {meta['placeholder']}." if shown else ""
        fields[name] = {
            "label": meta["label"],
            "description": f"{info.description}{default}",
            "schema": _schema(name),
        }
    return {
        "ui-field-behaviour": {
            "hidden-fields": behaviour["hidden_fields"],
            "relabeling": behaviour["relabeling"],
            "placeholders": behaviour["placeholders"],
        },
        "conn-fields": fields,
    }


def form_widgets() -> dict[str, Any]:
    """The same fields as wtforms fields, for Airflow 3.1's `get_connection_form_widgets()` (3.1 does not
    read declarative conn-fields). No defaults: an empty field is not written into the extras."""
    from flask_appbuilder.fieldwidgets import BS3TextFieldWidget
    from flask_babel import lazy_gettext
    from wtforms import BooleanField, IntegerField, StringField
    from wtforms.validators import Optional, any_of

    classes = {"string": StringField, "number": StringField, "integer": IntegerField, "enum": StringField}
    widgets: dict[str, Any] = {}
    for name, info in provider_info_connection_form()["conn-fields"].items():
        kind = _meta(name)["form_type"]
        validators = [Optional(), *([any_of(list(API_FLAVOURS))] if kind == "enum" else [])]
        if kind == "boolean":
            widgets[name] = BooleanField(lazy_gettext(info["label"]), description=info["description"])
            continue
        widgets[name] = classes[kind](
            lazy_gettext(info["label"]),
            validators=validators,
            description=info["description"],
            widget=BS3TextFieldWidget(),
        )
    return widgets
