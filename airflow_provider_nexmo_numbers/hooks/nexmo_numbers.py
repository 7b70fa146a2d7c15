"""`NexmoNumbersHook`: an Airflow connection of type `nexmo_numbers` -> a `NexmoNumbersClient`.

The hook is the only place that reads a Connection. Constructing it does no I/O (DAG files build operators,
and operators build hooks, at parse time); the connection is looked up and the client built on the first
`get_conn()`. The client is imported lazily so that importing this module stays cheap.

Connection fields: host = API base URL (default KPN's), login = client id, password = client secret;
extras `token_url`, `timeout`, `max_retries`, `max_retry_time`, `backoff_base`, `backoff_max`,
`rate_limit`, `verify_ssl` (`client_kwargs_from_connection`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from airflow.providers.common.compat.sdk import BaseHook, mask_secret

if TYPE_CHECKING:
    from collections.abc import Callable

    from airflow_provider_nexmo_numbers.client import NexmoNumbersClient

__all__ = ["KNOWN_EXTRAS", "NexmoNumbersHook", "client_kwargs_from_connection"]

KNOWN_EXTRAS = (
    "token_url",
    "timeout",
    "max_retries",
    "max_retry_time",
    "backoff_base",
    "backoff_max",
    "rate_limit",
    "verify_ssl",
)
_TOKEN_PATH = "/oauth/client_credential/accesstoken"
_TRUE = {"true", "1", "yes", "on", "y", "t"}
_FALSE = {"false", "0", "no", "off", "n", "f"}


def _config_error(conn_id: str, field: str, rule: str, value: Any = None, *, show_value: bool = True):
    from airflow_provider_nexmo_numbers.client.errors import NexmoValidationError

    shown = f" (got {value!r})" if show_value else ""
    return NexmoValidationError(f"connection {conn_id!r}: {field} {rule}{shown}", field=field, rule=rule)


def _is_unset(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def _finite_number(value: Any) -> float | None:
    """A number or numeric string as a finite float; None for anything else (booleans, NaN, infinity)."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if abs(number) < float("inf") else None


def _parse_timeout(conn_id: str, value: Any) -> float | tuple[float, float] | None:
    """A number, a numeric string, 'connect,read', a [connect, read] list or {"connect":..,"read":..}."""
    if _is_unset(value):
        return None
    rule = "must be seconds > 0, or 'connect,read' (e.g. '5,30')"
    if isinstance(value, Mapping):
        value = [value.get("connect"), value.get("read")]
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",")] if "," in value else value.strip()
    items = value if isinstance(value, (list, tuple)) else [value]
    if len(items) not in (1, 2):
        raise _config_error(conn_id, "extra.timeout", rule, value)
    seconds = []
    for item in items:
        number = _finite_number(item)
        if number is None or number <= 0:
            raise _config_error(conn_id, "extra.timeout", rule, value)
        seconds.append(number)
    return seconds[0] if len(seconds) == 1 else (seconds[0], seconds[1])


def _parse_int(conn_id: str, name: str, value: Any) -> int | None:
    if _is_unset(value):
        return None
    rule = "must be an integer >= 0"
    if isinstance(value, bool):
        raise _config_error(conn_id, f"extra.{name}", rule, value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or value < 0:
        raise _config_error(conn_id, f"extra.{name}", rule, value)
    return value


def _parse_number(conn_id: str, name: str, value: Any, rule: str, *, zero_ok: bool = True) -> float | None:
    """A finite number >= 0 (> 0 unless `zero_ok`) from extra `name`; unset -> None (the client's default)."""
    if _is_unset(value):
        return None
    number = _finite_number(value)
    if number is None or number < 0 or (number == 0 and not zero_ok):
        raise _config_error(conn_id, f"extra.{name}", rule, value)
    return number


# Number extras: (rule in errors, whether 0 is allowed). Unset -> the client's default.
_NUMBER_EXTRAS: dict[str, tuple[str, bool]] = {
    "max_retry_time": ("must be seconds > 0 (the time budget of one call, its retries and waits)", False),
    "backoff_base": ("must be seconds >= 0 (the wait before the first retry, doubled per retry)", True),
    "backoff_max": ("must be seconds >= 0 (the longest wait between two retries)", True),
    "rate_limit": ("must be a number of requests per second >= 0 (0 disables the client-side limit)", True),
}


def _parse_verify(conn_id: str, value: Any) -> bool | str | None:
    """true/false (also as strings), or the path of a CA bundle."""
    if _is_unset(value):
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        return value.strip()  # a CA bundle path, as requests accepts
    raise _config_error(conn_id, "extra.verify_ssl", "must be true, false or the path of a CA bundle", value)


def _base_url(conn: Any) -> str | None:
    """host as a URL; a bare host name gets https:// (plus port and schema as the path, URI-style)."""
    host = (conn.host or "").strip()
    if not host:
        return None
    if "://" in host:
        return host
    url = "https://" + host.rstrip("/")
    if conn.port:
        url += f":{conn.port}"
    if conn.schema:
        url += "/" + conn.schema.strip("/")
    return url


def client_kwargs_from_connection(conn: Any) -> dict[str, Any]:
    """Keyword arguments of `NexmoNumbersClient` from an Airflow Connection (no I/O, no secrets logged).

    Unset extras fall back to the client's defaults; without `token_url` the token endpoint is KPN's path
    on the base URL's host (or KPN's production endpoint when no host is set). Plain `http://` is refused
    for non-loopback hosts because it would send the client secret and tokens in clear text.
    """
    from airflow_provider_nexmo_numbers.client.validation import require_secure_url

    conn_id = conn.conn_id or "<unnamed>"
    if _is_unset(conn.login):
        raise _config_error(conn_id, "login", "must hold the KPN client id", show_value=False)
    if _is_unset(conn.password):
        raise _config_error(conn_id, "password", "must hold the KPN client secret", show_value=False)
    extra = conn.extra_dejson or {}
    kwargs: dict[str, Any] = {"client_id": conn.login.strip(), "client_secret": conn.password}

    base_url = _base_url(conn)
    if base_url is not None:
        kwargs["base_url"] = _checked_url(conn_id, "host", base_url, require_secure_url)
    token_url = extra.get("token_url")
    if _is_unset(token_url):
        if base_url is not None:
            origin = urlsplit(base_url)
            kwargs["token_url"] = f"{origin.scheme}://{origin.netloc}{_TOKEN_PATH}"
    else:
        kwargs["token_url"] = _checked_url(
            conn_id, "extra.token_url", str(token_url).strip(), require_secure_url
        )

    parsed = {
        "timeout": _parse_timeout(conn_id, extra.get("timeout")),
        "max_retries": _parse_int(conn_id, "max_retries", extra.get("max_retries")),
        **{
            name: _parse_number(conn_id, name, extra.get(name), rule, zero_ok=zero_ok)
            for name, (rule, zero_ok) in _NUMBER_EXTRAS.items()
        },
        "verify_ssl": _parse_verify(conn_id, extra.get("verify_ssl")),
    }
    kwargs.update({key: value for key, value in parsed.items() if value is not None})
    return kwargs


def _checked_url(conn_id: str, field: str, url: str, check: Any) -> str:
    from airflow_provider_nexmo_numbers.client.errors import NexmoValidationError

    try:
        return check(field, url)
    except NexmoValidationError as error:
        raise type(error)(f"connection {conn_id!r}: {error}", field=field, rule=error.rule) from None


class _ClientMethod:
    """A hook operation that is the client's method of the same name, called on `get_conn()` at call time.

    One definition per operation: `functools.wraps` gives the hook's method the client's signature,
    annotations and docstring, so `inspect.signature`, `help()` and API docs show them. The client module
    is imported on first access of the attribute, not when this module is imported (DAG parsing stays cheap).
    """

    def __set_name__(self, owner: type, name: str) -> None:
        self._owner, self._name = owner, name
        self._function: Callable[..., Any] | None = None

    def _build(self) -> Callable[..., Any]:
        import functools

        from airflow_provider_nexmo_numbers.client.client import NexmoNumbersClient

        name = self._name

        @functools.wraps(getattr(NexmoNumbersClient, name))
        def operation(hook: NexmoNumbersHook, *args: Any, **kwargs: Any) -> Any:
            return getattr(hook.get_conn(), name)(*args, **kwargs)

        operation.__module__ = self._owner.__module__
        operation.__qualname__ = f"{self._owner.__qualname__}.{name}"
        return operation

    def __get__(self, hook: NexmoNumbersHook | None, owner: type | None = None) -> Callable[..., Any]:
        if self._function is None:
            self._function = self._build()
        return self._function if hook is None else self._function.__get__(hook, owner)


class NexmoNumbersHook(BaseHook):
    """Hook for the Nexmo (Vonage) Numbers API through the KPN API Store.

    `get_conn()` returns a cached `NexmoNumbersClient` (one keep-alive session for the life of the hook).
    The OAuth2 token is shared by every hook and client of the process with the same token URL, client id
    and secret: tasks run by `dag.test()` or by one worker process ask for one token per lifetime, not
    one each. The operations below are the client's methods, called on it (same signatures and
    docstrings). The client secret and every access token are passed to `mask_secret`, so task logs show
    `***`.
    """

    conn_name_attr = "nexmo_conn_id"
    default_conn_name = "nexmo_numbers_default"
    conn_type = "nexmo_numbers"
    hook_name = "Nexmo Numbers (KPN)"

    def __init__(self, nexmo_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.nexmo_conn_id = nexmo_conn_id
        self._client: NexmoNumbersClient | None = None

    def get_conn(self) -> NexmoNumbersClient:
        """The client built from the connection (looked up on first use, then cached)."""
        if self._client is None:
            from airflow_provider_nexmo_numbers.client import NexmoNumbersClient

            conn = self.get_connection(self.nexmo_conn_id)
            if conn.password:
                mask_secret(conn.password)
            unknown = sorted(set(conn.extra_dejson or {}) - set(KNOWN_EXTRAS))
            if unknown:
                self.log.warning(
                    "Connection %r: ignoring unknown extra field(s) %s (known: %s)",
                    self.nexmo_conn_id,
                    ", ".join(unknown),
                    ", ".join(KNOWN_EXTRAS),
                )
            kwargs = client_kwargs_from_connection(conn)
            self._client = NexmoNumbersClient(**kwargs, on_token=mask_secret)
        return self._client

    @property
    def client(self) -> NexmoNumbersClient:
        return self.get_conn()

    def close(self) -> None:
        """Close the client's HTTP session; the next call builds a new client."""
        if self._client is not None:
            self._client.close()
            self._client = None

    def test_connection(self) -> tuple[bool, str]:
        """List one owned number (which needs a token); (ok, message) for the Airflow UI/CLI.

        The token is obtained inside the listing, so a token endpoint outage is retried under the
        connection's retry settings like any other request.
        """
        try:
            client = self.get_conn()
            page = client.list_owned_numbers(size=1)
        except Exception as error:
            return False, f"{type(error).__name__}: {error}"
        return True, (
            f"Connection OK: token from {client.token_url}; the account owns {page.count} number(s) "
            f"at {client.base_url}."
        )

    # -- operations: the client's own methods (same names, signatures and docstrings) --------------------

    list_owned_numbers = _ClientMethod()
    iter_owned_numbers = _ClientMethod()
    get_owned_number = _ClientMethod()
    find_owned_number = _ClientMethod()
    search_available_numbers = _ClientMethod()
    iter_available_numbers = _ClientMethod()
    buy_number = _ClientMethod()
    cancel_number = _ClientMethod()
    update_number = _ClientMethod()
