"""`NexmoNumbersHook`: an Airflow connection of type `nexmo_numbers` -> a `NexmoNumbersClient`.

The hook is the only place that reads a Connection. Constructing it does no I/O (DAG files build operators,
and operators build hooks, at parse time); the connection is looked up and the client built on the first
`get_conn()`. The client is imported lazily so that importing this module stays cheap.

Connection fields: host = API base URL (default KPN's, or https://rest.nexmo.com with `api=vonage`),
login = client id / Vonage API key, password = client secret / Vonage API secret; extras `api`,
`oauth_url` (old name `token_url`), `timeout`, `max_retries`, `max_retry_time`, `backoff_base`,
`backoff_max`, `rate_limit`, `verify_ssl`: one declarative definition in `hooks.connection`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from airflow.providers.common.compat.sdk import BaseHook, mask_secret

if TYPE_CHECKING:
    from collections.abc import Callable

    from airflow_provider_nexmo_numbers.client import NexmoNumbersClient

__all__ = ["NexmoNumbersHook", "client_kwargs_from_connection", "mask_token"]


def __getattr__(name: str) -> Any:
    # KNOWN_EXTRAS comes from the settings model, loaded on first use (pydantic stays out of DAG parsing).
    if name == "KNOWN_EXTRAS":
        from airflow_provider_nexmo_numbers.hooks.connection import KNOWN_EXTRAS

        return KNOWN_EXTRAS
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _config_error(conn_id: str, field: str, rule: str):
    from airflow_provider_nexmo_numbers.client.errors import NexmoValidationError

    return NexmoValidationError(f"connection {conn_id!r}: {field} {rule}", field=field, rule=rule)


def _is_unset(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


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

    The extras are parsed by the one declarative definition of the connection's settings
    (`hooks.connection.ConnectionSettings`: defaults, rules, form fields). On the KPN flavour, without
    `oauth_url` (or the old `token_url`) the token endpoint is KPN's path on the base URL's host (or KPN's
    production endpoint when no host is set); the Vonage flavour has no token endpoint. Plain `http://` is
    refused for non-loopback hosts because it would send the secret and tokens in clear text.
    """
    from airflow_provider_nexmo_numbers.client.defaults import KPN, TOKEN_PATH
    from airflow_provider_nexmo_numbers.client.validation import require_secure_url
    from airflow_provider_nexmo_numbers.hooks.connection import settings_from_extra

    conn_id = conn.conn_id or "<unnamed>"
    settings = settings_from_extra(conn_id, conn.extra_dejson or {})
    kpn = settings.api == KPN
    if _is_unset(conn.login):
        what = "the KPN client id" if kpn else "the Vonage API key"
        raise _config_error(conn_id, "login", f"must hold {what}")
    if _is_unset(conn.password):
        what = "the KPN client secret" if kpn else "the Vonage API secret"
        raise _config_error(conn_id, "password", f"must hold {what}")
    kwargs: dict[str, Any] = {
        "client_id": conn.login.strip(),
        "client_secret": conn.password,
        **settings.client_kwargs(),
    }
    if not kpn and "token_url" in kwargs:
        raise _config_error(
            conn_id, "extra.oauth_url", "is for the KPN flavour only (api=vonage has no token)"
        )
    base_url = _base_url(conn)
    if base_url is not None:
        kwargs["base_url"] = _checked_url(conn_id, "host", base_url, require_secure_url)
        if kpn and "token_url" not in kwargs:
            origin = urlsplit(base_url)
            kwargs["token_url"] = f"{origin.scheme}://{origin.netloc}{TOKEN_PATH}"
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
    """Hook for the Nexmo (Vonage) Numbers API, through the KPN API Store (extra `api=kpn`, the default) or
    Vonage direct (`api=vonage`: API key and secret as login and password).

    `get_conn()` returns a cached `NexmoNumbersClient` (one keep-alive session for the life of the hook).
    The OAuth2 token is shared by every hook and client of the process with the same token URL, client id
    and secret: tasks run by `dag.test()` or by one worker process ask for one token per lifetime, not
    one each. The operations below are the client's methods, called on it (same signatures and
    docstrings). Secrets: the connection's password is masked by Airflow when it hands out the
    connection; every access token is registered with the masker once (`mask_token`), so task logs show
    `***`.
    """

    conn_name_attr = "nexmo_conn_id"
    default_conn_name = "nexmo_numbers_default"
    conn_type = "nexmo_numbers"
    hook_name = "Nexmo Numbers (KPN / Vonage)"

    def __init__(self, nexmo_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.nexmo_conn_id = nexmo_conn_id
        self._client: NexmoNumbersClient | None = None

    def get_conn(self) -> NexmoNumbersClient:
        """The client built from the connection (looked up on first use, then cached)."""
        if self._client is None:
            from airflow_provider_nexmo_numbers.client import NexmoNumbersClient
            from airflow_provider_nexmo_numbers.hooks.connection import KNOWN_EXTRAS

            # Airflow masks the password (and sensitive extras) when it hands out the connection: masking
            # it again here would only repeat it (see mask_token).
            conn = self.get_connection(self.nexmo_conn_id)
            unknown = sorted(set(conn.extra_dejson or {}) - set(KNOWN_EXTRAS))
            if unknown:
                self.log.warning(
                    "Connection %r: ignoring unknown extra field(s) %s (known: %s)",
                    self.nexmo_conn_id,
                    ", ".join(unknown),
                    ", ".join(KNOWN_EXTRAS),
                )
            kwargs = client_kwargs_from_connection(conn)
            self._client = NexmoNumbersClient(**kwargs, on_token=mask_token)
        return self._client

    @property
    def client(self) -> NexmoNumbersClient:
        return self.get_conn()

    @property
    def api(self) -> str:
        """The connection's API flavour: "kpn" or "vonage" (reads the connection on first use)."""
        return self.get_conn().api

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        """Extra fields of the connection form for Airflow 3.1, which does not read the provider info's
        declarative `conn-fields` (3.2+ does and then never calls this). Built from the same settings
        definition; wtforms is imported here, only when the 3.1 UI asks."""
        from airflow_provider_nexmo_numbers.hooks.connection import form_widgets

        return form_widgets()

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """Hidden fields, labels and placeholders of the connection form for Airflow 3.1 (see above)."""
        from airflow_provider_nexmo_numbers.hooks.connection import ui_field_behaviour

        return ui_field_behaviour()

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
        auth = f"token from {client.token_url}" if client.token_url else "API key accepted"
        return True, f"Connection OK: {auth}; the account owns {page.count} number(s) at {client.base_url}."

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
    get_balance = _ClientMethod()


def mask_token(token: str) -> None:
    """Register an access token with Airflow's secrets masker, without echoing it.

    `mask_secret` also sends the value to the task's supervisor; under `dag.test()` that supervisor runs in
    the same process and logs every message it is sent at DEBUG, the value included (issue 11). There the
    process's own masker is the one that matters, so the token is added to it directly; in a real task
    process (whose supervisor does not echo) `mask_secret` is used as usual.
    """
    import sys

    runner = sys.modules.get("airflow.sdk.execution_time.task_runner")
    comms = getattr(runner, "SUPERVISOR_COMMS", None)
    if type(comms).__name__ == "InProcessSupervisorComms":
        try:
            from airflow.sdk._shared.secrets_masker import mask_secret as mask_in_process
        except ImportError:  # another layout: the public way, echo and all
            pass
        else:
            mask_in_process(token)
            return
    mask_secret(token)
