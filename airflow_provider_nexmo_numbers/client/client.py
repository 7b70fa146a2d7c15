"""`NexmoNumbersClient`: the Numbers API behind the KPN API Store, usable from a plain script (no Airflow).

Well-behaved on the wire: one keep-alive `requests.Session`, a hard time budget per call (`max_retry_time`
bounds its requests, retries, waits and the reading of slow answers; see `budget`), one OAuth2 token per
lifetime per process, shared by every client with the same credentials (renewed once and the request
replayed once on a 401), pacing by the quota the API states (see `ratelimit`), and retries with backoff for
what is safe to repeat. Money is never spent twice: a purchase or a
cancellation is never repeated blindly; after an ambiguous failure (timeout, dropped connection, 5xx) the
client first looks whether the number is owned, and only retries when the outcome is known not to have
happened.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

import requests
from pydantic import ValidationError

from airflow_provider_nexmo_numbers import __version__
from airflow_provider_nexmo_numbers.client import transport
from airflow_provider_nexmo_numbers.client.auth import TOKEN_OPERATION, ApiKeyAuth, TokenSource
from airflow_provider_nexmo_numbers.client.budget import active_budget
from airflow_provider_nexmo_numbers.client.defaults import (
    API_FLAVOURS,
    DEFAULT_BACKOFF_BASE,
    DEFAULT_BACKOFF_MAX,
    DEFAULT_BASE_URL,
    DEFAULT_BASE_URLS,
    DEFAULT_MAX_RETRIES,
    DEFAULT_MAX_RETRY_TIME,
    DEFAULT_TIMEOUT,
    DEFAULT_TOKEN_URL,
    KPN,
    VONAGE,
)
from airflow_provider_nexmo_numbers.client.errors import (
    NexmoMethodFailedError,
    NexmoNumberNotFoundError,
    NexmoNumbersError,
    NexmoServerError,
    NexmoTransportError,
    NexmoUpdateNotAppliedError,
    NexmoValidationError,
)
from airflow_provider_nexmo_numbers.client.models import (
    AvailableNumber,
    BuyResult,
    CancelResult,
    NumberPage,
    OwnedNumber,
    OwnedNumbersEnvelope,
)
from airflow_provider_nexmo_numbers.client.paging import iter_numbers
from airflow_provider_nexmo_numbers.client.ratelimit import DEFAULT_RATE_LIMIT, RateLimiter
from airflow_provider_nexmo_numbers.client.responses import (
    budget_exceeded,
    raise_for_response,
    transport_error,
)
from airflow_provider_nexmo_numbers.client.retry import DoNotRetry, RetryPolicy
from airflow_provider_nexmo_numbers.client.token_registry import shared_token_slot
from airflow_provider_nexmo_numbers.client.validation import (
    DEPRECATED_VOICE_RULE,
    DEPRECATED_VOICE_TYPE,
    UPDATE_FIELDS,
    redact_url,
    require_secure_url,
    validate_country,
    validate_features,
    validate_index,
    validate_msisdn,
    validate_msisdn_country,
    validate_number_type,
    validate_page_size,
    validate_pattern,
    validate_search_pattern,
    validate_update_changes,
)

__all__ = [
    "DEFAULT_BACKOFF_BASE",
    "DEFAULT_BACKOFF_MAX",
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_MAX_RETRY_TIME",
    "DEFAULT_RATE_LIMIT",
    "DEFAULT_TIMEOUT",
    "DEFAULT_TOKEN_URL",
    "NexmoNumbersClient",
]

log = logging.getLogger(__name__)
_Result = TypeVar("_Result", BuyResult, CancelResult)
# A listing endpoint: (operation name, path, model of its numbers, envelope for the one-call fast path or
# None). Only owned numbers have one: their fields are all text, so reading them from the JSON bytes gives
# exactly what reading the decoded dict gives (an AvailableNumber's Decimal cost could differ).
_Listing = tuple[str, str, type, "type[OwnedNumbersEnvelope] | None"]
_OWNED: _Listing = ("GET /account/numbers", "/account/numbers", OwnedNumber, OwnedNumbersEnvelope)
_SEARCH: _Listing = ("GET /number/search", "/number/search", AvailableNumber, None)


def _fast_page(response: requests.Response, envelope: type[OwnedNumbersEnvelope]) -> Any:
    """A plain 200 page validated in one call from its bytes, or None when anything is unusual (the
    general path then decides, with the same tolerance and the same typed errors as always)."""
    if response.status_code != 200 or not response.content:
        return None
    try:
        page = envelope.model_validate_json(response.content)
    except ValidationError:
        return None
    if page.error_code is not None and str(page.error_code).strip() != "200":
        return None  # an error inside an HTTP 200: raise_for_response raises its typed error
    return page


# Fields always written by an update (KPN's documented set). `app_id` is Vonage-only and sent only when
# used, so a KPN gateway never sees a field it does not know.
_ALWAYS_WRITTEN = ("mo_http_url", "mo_smpp_sys_type", "voice_callback_type", "voice_callback_value",
                   "voice_status_callback")  # fmt: skip
# Deprecated Vonage settings that a number may carry: re-sent unchanged so an update does not clear them.
_PRESERVED = {
    "messages_callback_type": "messagesCallbackType",
    "messages_callback_value": "messagesCallbackValue",
}
# What each flavour cannot write back: an update replaces every setting, so a number carrying one of these
# loses it on any update through that flavour (KPN's gateway forwards only its documented fields).
_UNSENDABLE = {KPN: ("app_id", *_PRESERVED), VONAGE: ()}
# Reads of a number after an update until it shows what was written (the API may lag behind its write).
_READ_BACK_WAITS = (0.25, 0.5, 1.0)


def owned_filters(country: Any, application_id: Any, has_application: Any) -> dict[str, Any]:
    """The owned-number filters that are set, validated (`has_application` as a bool)."""
    filters: dict[str, Any] = {}
    if country is not None:
        filters["country"] = validate_country(country)
    if application_id is not None:
        if not isinstance(application_id, str) or not application_id.strip():
            raise NexmoValidationError(field="application_id", rule="must be a non-empty string")
        filters["application_id"] = application_id.strip()
    if has_application is not None:
        text = str(has_application).strip().lower()
        if text not in ("true", "false") or not isinstance(has_application, (bool, str)):
            raise NexmoValidationError(field="has_application", rule="must be true or false")
        filters["has_application"] = text == "true"
    return filters


def _filter_params(filters: Mapping[str, Any]) -> dict[str, str]:
    """The filters as Vonage's query parameters (booleans in lower case, as its definition says)."""
    return {k: (str(v).lower() if isinstance(v, bool) else v) for k, v in filters.items()}


def _matches(number: OwnedNumber, filters: Mapping[str, Any]) -> bool:
    """Client-side equivalent of Vonage's owned-number filters (for the KPN flavour)."""
    if "country" in filters and number.country != filters["country"]:
        return False
    if "application_id" in filters and (number.app_id or "") != filters["application_id"]:
        return False
    return "has_application" not in filters or bool(number.app_id) == filters["has_application"]


def _normalise_timeout(timeout: Any) -> tuple[float, float]:
    """A number (both timeouts) or a (connect, read) pair of positive seconds."""
    if isinstance(timeout, (int, float)) and not isinstance(timeout, bool):
        pair: tuple[Any, Any] = (timeout, timeout)
    elif isinstance(timeout, (tuple, list)) and len(timeout) == 2:
        pair = (timeout[0], timeout[1])
    else:
        raise NexmoValidationError(
            f"invalid timeout {timeout!r}",
            field="timeout",
            rule="must be seconds > 0 or a (connect, read) pair",
        )
    result = []
    for value in pair:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise NexmoValidationError(
                f"invalid timeout {timeout!r}",
                field="timeout",
                rule="must be seconds > 0 or a (connect, read) pair",
            )
        result.append(float(value))
    return result[0], result[1]


class NexmoNumbersClient:
    """Client of the Nexmo (Vonage) Numbers API, in one of two flavours chosen by `api`:

    - `"kpn"` (default): the KPN API Store, OAuth2 client credentials (`client_id`, `client_secret`,
      `token_url`), base URL `https://api-prd.kpn.com/communication/nexmo/phone-numbers`;
    - `"vonage"`: Vonage direct, `client_id` = api key and `client_secret` = api secret sent as HTTP Basic
      auth (as Vonage's SDK 4.x does), base URL `https://rest.nexmo.com`. Only this flavour reaches
      `app_id`, the owned-number filters `application_id`/`has_application`/`country`, `target_api_key`
      (subaccounts) and the account balance.

    Both share the retries, the money safety of buy and cancel, pacing and masking.
    Defaults: `timeout=(5.0, 30.0)` seconds (connect, read, each capped by what is left of the call's
    budget); `max_retries=5` retries within `max_retry_time=120` seconds, a hard budget per call (slow or
    trickling answers are cut off at it: `NexmoTimeoutError`); `rate_limit=None`: pace by the quota the
    API states in its `quota-*` headers, shared by every process with the same client id (a number adds a
    fixed cap in requests/second, 0 disables client-side pacing; see `ratelimit`); TLS verified.
    `on_token` is called with each access token this client uses, once per token value (e.g. Airflow's
    `mask_secret`). With `share_tokens=True` (default) the token is shared with every other client of this
    process that has the same token URL, client id and secret: a second client reuses a still-valid token
    instead of asking for one, and one renewal (expiry, or a 401 on any of them) serves all;
    `share_tokens=False` keeps a private token. Pass `session` to bring your own `requests.Session`: its
    `request` then sends every call, with its hooks, auth and cookies (the client's own session goes through
    `transport`, which keeps no cookies); `close()` does not close it; mount `budget.BudgetAdapter` on it for
    the hard cut-off at the deadline, else only each request's timeouts are capped by the budget.
    `backoff_base`/`backoff_max` shape the
    retry backoff and `retry_policy` replaces it entirely (tests inject a policy whose `sleep` does not
    sleep). Thread-safe for concurrent calls: the token slot and rate limiter are locked; statistics are
    approximate.
    """

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        *,
        api: str = KPN,
        base_url: str | None = None,
        token_url: str | None = None,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        max_retry_time: float = DEFAULT_MAX_RETRY_TIME,
        rate_limit: float | None = DEFAULT_RATE_LIMIT,
        verify_ssl: bool | str = True,
        on_token: Callable[[str], Any] | None = None,
        session: requests.Session | None = None,
        backoff_base: float = DEFAULT_BACKOFF_BASE,
        backoff_max: float = DEFAULT_BACKOFF_MAX,
        token_refresh_margin: float = 60.0,
        retry_policy: RetryPolicy | None = None,
        share_tokens: bool = True,
    ) -> None:
        if api not in API_FLAVOURS:
            raise NexmoValidationError(
                f"unknown api {api!r}", field="api", rule=f"must be one of {', '.join(API_FLAVOURS)}"
            )
        self.api = api
        if not isinstance(client_id, str) or not client_id.strip():
            what = "the KPN client id" if api == KPN else "the Vonage api key"
            raise NexmoValidationError(field="client_id", rule=f"must be a non-empty string ({what})")
        if not isinstance(client_secret, str) or not client_secret:
            raise NexmoValidationError(field="client_secret", rule="must be a non-empty string")
        self.base_url = require_secure_url("base_url", base_url or DEFAULT_BASE_URLS[api]).rstrip("/")
        if api == VONAGE and token_url is not None:
            raise NexmoValidationError(
                field="token_url", rule="is for the KPN flavour only (Vonage direct uses api key and secret)"
            )
        self.token_url = (
            require_secure_url("token_url", token_url or DEFAULT_TOKEN_URL) if api == KPN else None
        )
        self.timeout = _normalise_timeout(timeout)
        try:
            self.retry_policy = retry_policy or RetryPolicy(
                max_retries=max_retries,
                max_retry_time=max_retry_time,
                backoff_base=backoff_base,
                backoff_max=backoff_max,
            )
        except ValueError as exc:
            # RetryPolicy's messages start with the parameter's name.
            raise NexmoValidationError(str(exc), field=str(exc).split()[0], rule=str(exc)) from None
        try:
            self._limiter = RateLimiter(rate_limit)
        except ValueError as exc:
            raise NexmoValidationError(
                str(exc), field="rate_limit", rule="must be >= 0 (None follows the API's quota, 0 disables)"
            ) from None
        self.verify_ssl = verify_ssl
        self._verify = verify_ssl  # what requests gets (the environment's CA bundle for our own session)
        self._own_session = session is None
        self._session = session or self._new_session()
        # Our own session needs none of Session.request's per-request work (see `transport`); a caller's
        # session keeps all of it (its hooks, auth and overrides must run).
        self._send: Callable[..., requests.Response] = (
            functools.partial(transport.send, self._session) if self._own_session else self._session.request
        )
        client_id = client_id.strip()
        self._tokens: TokenSource | ApiKeyAuth = ApiKeyAuth(client_id, client_secret)
        if api == KPN:
            self._tokens = TokenSource(
                client_id,
                client_secret,
                self.token_url,
                session=self._session,
                timeout=self.timeout,
                verify=self._verify,
                on_token=on_token,
                refresh_margin=token_refresh_margin,
                slot=shared_token_slot(self.token_url, client_id, client_secret) if share_tokens else None,
            )
        self._stats_lock = threading.Lock()
        self._requests = 0
        self._retries = 0

    # -- plumbing --------------------------------------------------------------------------------------------

    def _new_session(self) -> requests.Session:
        session = requests.Session()
        # The environment (proxies, CA bundle) is read once, here, not on every request: requests' own
        # per-request lookup (trust_env) walks os.environ each time and cost ~40% of a bare listing's CPU.
        # It would also let a ~/.netrc entry replace our bearer token with Basic credentials.
        session.trust_env = False
        session.proxies.update(requests.utils.get_environ_proxies(self.base_url))
        if self._verify is True:
            self._verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        # Retries are ours (tenacity, with ownership checks); urllib3 must not repeat a purchase behind
        # our back.
        # A BudgetAdapter: a slow or trickling answer is cut off at the call's deadline (see `budget`).
        adapter = transport.ClientAdapter(pool_connections=4, pool_maxsize=10, max_retries=0)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        session.headers.update(
            {"User-Agent": f"airflow-provider-nexmo-numbers/{__version__}", "Accept": "application/json"}
        )
        return session

    @property
    def tokens(self) -> TokenSource | ApiKeyAuth:
        """The OAuth2 token source of this client (its token slot is shared process-wide unless
        `share_tokens=False`); on the Vonage flavour the api key/secret Basic auth (nothing to fetch)."""
        return self._tokens

    @property
    def stats(self) -> dict[str, int]:
        """Requests sent to the API (token grants excluded), token grants this client requested (a token
        reused from another client of the process is not one), and retries made."""
        return {"requests": self._requests, "token_fetches": self._tokens.fetches, "retries": self._retries}

    @property
    def request_rate(self) -> float | None:
        """Requests per second this client currently expects to get (its share of the quota the API
        states, or its `rate_limit`), None while unknown or with pacing disabled: for estimates (ETA)."""
        return self._limiter.pace

    def _count_retry(self, error: BaseException, wait: float) -> None:
        with self._stats_lock:
            self._retries += 1
        log.warning("Retrying in %.2f s after: %s", wait, error)

    def _send_once(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        msisdn: str | None = None,
        envelope: type[OwnedNumbersEnvelope] | None = None,
    ) -> Any:
        """One attempt: the token (granted now if none is cached), one request, and one replay with a fresh
        token after a 401; returns the JSON body (or, given an `envelope` and a plain page, the validated
        envelope) or raises.

        A failed grant is raised from here like a failed request (`operation="token"`), so the caller's one
        retry loop decides about both: `max_retries + 1` attempts bound the whole operation, grants
        included (the token source never retries by itself).
        """
        url = self.base_url + path
        budget = active_budget()
        for replay in (False, True):
            token = self._tokens.get_token()
            self._limiter.acquire(budget.remaining() if budget else None, operation=operation)
            with self._stats_lock:
                self._requests += 1
            try:
                response = self._send(
                    method,
                    url,
                    params=params,
                    data=data,
                    headers={"Authorization": self._tokens.authorization(token)},
                    timeout=budget.timeout(self.timeout) if budget else self.timeout,
                    verify=self._verify,
                )
            except requests.RequestException as exc:
                raise transport_error(exc, operation=operation, msisdn=msisdn, timeout=self.timeout) from exc
            cut_off = budget_exceeded(operation=operation, msisdn=msisdn, timeout=self.timeout)
            if cut_off is not None:
                response.close()
                raise cut_off
            self._limiter.observe(response.headers, response.status_code)
            if response.status_code == 401 and not replay and self._tokens.renewable:
                log.info("%s: access token refused (401); fetching a new token and replaying once", operation)
                response.close()
                self._tokens.invalidate(token)
                continue
            if envelope is not None:
                page = _fast_page(response, envelope)
                if page is not None:
                    return page
            return raise_for_response(response, operation=operation, msisdn=msisdn)
        raise AssertionError("unreachable")  # pragma: no cover

    def _call(self, operation: str, method: str, path: str, *, idempotent: bool = True, **kwargs: Any) -> Any:
        return self.retry_policy.call(
            lambda: self._send_once(operation, method, path, **kwargs),
            idempotent=idempotent,
            on_retry=self._count_retry,
        )

    # -- listings --------------------------------------------------------------------------------------------

    @staticmethod
    def _page(body: Any, model: type, index: int, size: int) -> NumberPage:
        """`{}` (no match, or past the end) is an empty page with count 0. `body` is the decoded JSON, or an
        envelope already validated from the bytes (see `_fast_page`)."""
        if isinstance(body, OwnedNumbersEnvelope):
            count, items = body.count, body.numbers or []
        else:
            body = body if isinstance(body, dict) else {}
            count = body.get("count")
            items = [
                model.model_validate(item) for item in body.get("numbers") or [] if isinstance(item, dict)
            ]
        try:
            count = int(count) if count is not None else None
        except (TypeError, ValueError):
            count = None
        return NumberPage[model](
            count=max(count or 0, len(items)),
            numbers=items,
            index=index,
            size=size,
            count_given=count is not None,
        )

    def _get_page(self, listing: _Listing, params: dict[str, Any]) -> NumberPage:
        operation, path, model, envelope = listing
        body = self._call(operation, "GET", path, params=params, envelope=envelope)
        return self._page(body, model, params["index"], params["size"])

    def _iterate(
        self, listing: _Listing, params: dict[str, Any], limit: int | None = None, consistent: bool = False
    ) -> Iterator[Any]:
        """Every number of `listing`, page by page; `params` are validated once, before any I/O."""
        return iter_numbers(
            lambda index, size: self._get_page(listing, {**params, "index": index, "size": size}),
            page_size=params["size"],
            limit=limit,
            operation=listing[0],
            consistent=consistent,
        )

    def list_owned_numbers(
        self,
        *,
        pattern: str | None = None,
        search_pattern: int | str | None = None,
        size: int = 10,
        index: int = 1,
        country: str | None = None,
        application_id: str | None = None,
        has_application: bool | str | None = None,
    ) -> NumberPage[OwnedNumber]:
        """One page of the numbers this account owns (`count` is the total across pages).

        `country`, `application_id` and `has_application` filter on the server, which only Vonage direct
        does; on the KPN flavour they raise `NexmoValidationError` (one page cannot be filtered here
        without breaking `count` and paging: use `iter_owned_numbers`, which filters on the client).
        """
        params = self._listing_params(pattern, search_pattern, size, index)
        filters = owned_filters(country, application_id, has_application)
        if filters and self.api == KPN:
            name = next(iter(filters))
            raise NexmoValidationError(
                field=name,
                rule="is filtered by the server only on the Vonage flavour (api=vonage); on KPN use "
                "iter_owned_numbers, which filters on the client",
            )
        return self._get_page(_OWNED, {**params, **_filter_params(filters)})

    def iter_owned_numbers(
        self,
        *,
        pattern: str | None = None,
        search_pattern: int | str | None = None,
        page_size: int = 100,
        country: str | None = None,
        application_id: str | None = None,
        has_application: bool | str | None = None,
        consistent: bool = False,
    ) -> Iterator[OwnedNumber]:
        """Every owned number (matching `pattern` and the filters), page by page, in constant memory.

        `country`, `application_id` (the number's `app_id`) and `has_application` (whether it has one)
        are sent to the server on Vonage direct; the KPN gateway does not take them, so there the client
        pages through every number matching `pattern` and keeps those that match.

        `consistent=True` is for reads that decide what to buy or release: overlapping pages prove that no
        number was skipped while the listing moved under the read (bought or released meanwhile), or the
        read fails with `ListingChangedError` (see `paging`); about 14% more requests on large accounts.
        """
        params = self._listing_params(pattern, search_pattern, page_size, 1, size_field="page_size")
        filters = owned_filters(country, application_id, has_application)
        if not isinstance(consistent, bool):
            raise NexmoValidationError(field="consistent", rule="must be true or false")
        if self.api == KPN:
            numbers = self._iterate(_OWNED, params, consistent=consistent)
            return (number for number in numbers if _matches(number, filters)) if filters else numbers
        return self._iterate(_OWNED, {**params, **_filter_params(filters)}, consistent=consistent)

    def search_available_numbers(
        self,
        country: str,
        *,
        type: str | None = None,
        features: str | list[str] | None = None,
        pattern: str | None = None,
        search_pattern: int | str | None = None,
        size: int = 10,
        index: int = 1,
    ) -> NumberPage[AvailableNumber]:
        """One page of numbers available to buy in `country` (`count` is the pool size)."""
        params = self._search_params(country, type, features, pattern, search_pattern, size, index)
        return self._get_page(_SEARCH, params)

    def iter_available_numbers(
        self,
        country: str,
        *,
        type: str | None = None,
        features: str | list[str] | None = None,
        pattern: str | None = None,
        search_pattern: int | str | None = None,
        page_size: int = 100,
        limit: int | None = None,
    ) -> Iterator[AvailableNumber]:
        """Every available number matching the criteria (at most `limit`), page by page."""
        params = self._search_params(
            country, type, features, pattern, search_pattern, page_size, 1, size_field="page_size"
        )
        return self._iterate(_SEARCH, params, limit)

    @staticmethod
    def _listing_params(
        pattern: Any, search_pattern: Any, size: Any, index: Any, *, size_field: str = "size"
    ) -> dict[str, Any]:
        params: dict[str, Any] = {
            "index": validate_index(index),
            "size": validate_page_size(size, field=size_field),
        }
        pattern = validate_pattern(pattern)
        search_pattern = validate_search_pattern(search_pattern)
        if pattern is not None:
            params["pattern"] = pattern
        if search_pattern is not None:
            params["search_pattern"] = search_pattern
        return params

    def _search_params(
        self,
        country: Any,
        number_type: Any,
        features: Any,
        pattern: Any,
        search_pattern: Any,
        size: Any,
        index: Any,
        *,
        size_field: str = "size",
    ) -> dict[str, Any]:
        params = {"country": validate_country(country)}
        number_type = validate_number_type(number_type)
        features = validate_features(features)
        if number_type is not None:
            params["type"] = number_type
        if features is not None:
            params["features"] = features
        params.update(self._listing_params(pattern, search_pattern, size, index, size_field=size_field))
        return params

    # -- one number ------------------------------------------------------------------------------------------

    def find_owned_number(self, msisdn: str) -> OwnedNumber | None:
        """The owned number with exactly this msisdn, or None. (There is no get-one endpoint: list, match.)"""
        msisdn = validate_msisdn(msisdn)
        for number in self.iter_owned_numbers(pattern=msisdn, search_pattern=0):
            if number.msisdn == msisdn:
                return number
        return None

    def get_owned_number(self, msisdn: str) -> OwnedNumber:
        """The owned number with exactly this msisdn; `NexmoNumberNotFoundError` if not owned."""
        msisdn = validate_msisdn(msisdn)
        number = self.find_owned_number(msisdn)
        if number is None:
            raise NexmoNumberNotFoundError(
                "this account does not own the number", operation="GET /account/numbers", msisdn=msisdn
            )
        return number

    # -- writes ----------------------------------------------------------------------------------------------

    def _ownership_after(self, error: NexmoNumbersError, msisdn: str, purpose: str) -> OwnedNumber | None:
        """Whether `msisdn` is owned after an ambiguous or refused write; ends all retries if unknowable."""
        log.warning("%s; checking whether %s is owned before deciding anything (%s)", error, msisdn, purpose)
        try:
            return self.find_owned_number(msisdn)
        except NexmoNumbersError as lookup_error:
            unverified = type(error)(
                f"{error.detail}; ownership could not be verified afterwards ({lookup_error}), "
                "so the request was not repeated",
                **error._context(),
                **error._extra_state(),
            )
            raise DoNotRetry(unverified) from lookup_error

    @staticmethod
    def _ambiguous(error: NexmoNumbersError) -> bool:
        """A failure after which the write may or may not have happened. A failed token grant is not one:
        the write was never sent."""
        if error.operation == TOKEN_OPERATION:
            return False
        return isinstance(error, NexmoServerError) or (isinstance(error, NexmoTransportError) and error.sent)

    def _write_once(
        self,
        verb: str,
        country: str,
        msisdn: str,
        *,
        done_if_owned: bool,
        purposes: tuple[str, str],
        result: Callable[[str, str, bool, bool], _Result],
        target_api_key: str | None = None,
    ) -> _Result:
        """`POST /number/{verb}` (buy or cancel), never repeated blindly.

        A 420 or an ambiguous failure is answered by checking ownership (`purposes` say why, in the log):
        if it already is what the write leaves (`done_if_owned`) the result is `already_*=True`; otherwise
        the error is raised, and as the write is then known not done the retry policy may repeat it. A
        failed token grant needs no check (nothing was sent) and is retried by the same policy, so the
        attempts of a write, grants included, are bounded by `max_retries + 1` too.
        """
        country = validate_country(country)
        msisdn = validate_msisdn_country(validate_msisdn(msisdn), country)
        target = self._target_api_key(target_api_key)
        path = f"/number/{verb}"
        form = {"country": country, "msisdn": msisdn, **({"target_api_key": target} if target else {})}

        def attempt() -> _Result:
            try:
                self._send_once(f"POST {path}", "POST", path, data=form, msisdn=msisdn)
            except (NexmoMethodFailedError, NexmoServerError, NexmoTransportError) as error:
                if not isinstance(error, NexmoMethodFailedError) and not self._ambiguous(error):
                    raise
                if target:
                    # The subaccount's numbers are not this account's listing: the outcome cannot be
                    # checked here, so a 420 stands and an ambiguous failure is never repeated.
                    if isinstance(error, NexmoMethodFailedError):
                        raise
                    raise DoNotRetry(
                        type(error)(
                            f"{error.detail}; the {verb} for subaccount {target!r} may or may not have "
                            "happened and cannot be checked from this account's listing, so it was not "
                            "repeated: check the subaccount's numbers",
                            **error._context(),
                            **error._extra_state(),
                        )
                    ) from error
                purpose = purposes[0] if isinstance(error, NexmoMethodFailedError) else purposes[1]
                owned = self._ownership_after(error, msisdn, purpose)
                if (owned is not None) == done_if_owned:
                    refused = isinstance(error, NexmoMethodFailedError)
                    return result(getattr(owned, "country", None) or country, msisdn, True, refused)
                raise  # known not done: the retry policy may repeat it safely
            return result(country, msisdn, False, False)

        # idempotent=True is right: attempt() resolves every ambiguous failure before it raises.
        return self.retry_policy.call(attempt, idempotent=True, on_retry=self._count_retry)

    def _target_api_key(self, value: Any) -> str | None:
        """A subaccount's api key (Vonage direct only), checked before the wire."""
        if value is None:
            return None
        if self.api == KPN:
            raise NexmoValidationError(
                field="target_api_key",
                rule="is only available on the Vonage flavour (connection extra api=vonage); the KPN API "
                "Store has no subaccounts",
            )
        if not isinstance(value, str) or not value.strip():
            raise NexmoValidationError(
                field="target_api_key", rule="must be a non-empty string (the subaccount's api key)"
            )
        return value.strip()

    def buy_number(self, country: str, msisdn: str, *, target_api_key: str | None = None) -> BuyResult:
        """Buy `msisdn`. Idempotent: a number this account already owns counts as bought
        (`already_owned=True`).

        Never repeated blindly: after a timeout, a dropped connection or a 5xx the client checks ownership
        first and retries only if the number is not owned; a 420 is answered by the same check. 429 is
        retried (the gateway never processed it).

        `target_api_key` (Vonage direct only) buys for that subaccount. Its numbers are not in this
        account's listing, so there a 420 is raised as it is and an ambiguous failure is raised without a
        retry (never a second purchase); on KPN it raises `NexmoValidationError` before any request.
        """
        return self._write_once(
            "buy",
            country,
            msisdn,
            done_if_owned=True,
            purposes=("a 420 may mean we own it already", "the purchase may have gone through"),
            result=lambda c, m, already, refused: BuyResult(
                country=c, msisdn=m, already_owned=already, refused_as_owned=refused
            ),
            target_api_key=target_api_key,
        )

    def cancel_number(self, country: str, msisdn: str, *, target_api_key: str | None = None) -> CancelResult:
        """Cancel (release) `msisdn`. Idempotent: a number no longer owned counts as released
        (`already_released=True`); ambiguous failures are resolved by checking ownership, as for
        `buy_number`, and `target_api_key` (a subaccount, Vonage direct only) works as there.
        """
        return self._write_once(
            "cancel",
            country,
            msisdn,
            done_if_owned=False,
            purposes=("a 420 may mean it is released already", "the cancellation may have gone through"),
            result=lambda c, m, already, _refused: CancelResult(
                country=c, msisdn=m, already_released=already
            ),
            target_api_key=target_api_key,
        )

    # -- account ---------------------------------------------------------------------------------------------

    def get_balance(self) -> Decimal | None:
        """The account balance in EUR (Vonage's Account API, `GET /account/get-balance`), or None on the
        KPN flavour, whose gateway offers no balance (KPN bills the API Store account)."""
        if self.api == KPN:
            return None
        operation = "GET /account/get-balance"
        body = self._call(operation, "GET", "/account/get-balance")
        value = body.get("value") if isinstance(body, dict) else None
        try:
            balance = Decimal(str(value))
        except (InvalidOperation, ValueError):
            balance = None
        if balance is None or isinstance(value, bool) or not balance.is_finite():
            raise NexmoServerError(
                f"the balance answer has no numeric value (got {value!r})", operation=operation
            )
        return balance

    def update_number(
        self, country: str, msisdn: str, *, allow_clearing: bool = False, **changes: Any
    ) -> OwnedNumber:
        """Change settings of an owned number without losing the others; returns the number as read back.

        `changes` (Python names): mo_http_url, mo_smpp_sys_type, voice_callback_type,
        voice_callback_value, voice_status_callback, app_id (Vonage direct: links the number to that
        application; `""` unlinks it). `""` clears a setting, None leaves it as it is. The API treats an
        update as a replace, so the client reads the number, merges the changes, writes every field, reads
        the number back and raises `NexmoUpdateNotAppliedError` if what it reads is not what it wrote
        (every field it wrote, the preserved deprecated messages callback included; a lagging read is
        re-read a few times first). With no changes (all None) nothing is written and the current number
        returned.

        Refused before any write, with `NexmoValidationError`: a setting the flavour cannot send back
        while the number carries it (over KPN: `app_id` and the messages callback), because the replace
        would clear it, unless `allow_clearing=True`; and a number whose voice callback type is the
        deprecated `app`, which the API refuses to have written back.
        """
        country = validate_country(country)
        msisdn = validate_msisdn_country(validate_msisdn(msisdn), country)
        wanted = validate_update_changes(changes)
        if self.api == KPN and "app_id" in wanted:
            raise NexmoValidationError(
                field="app_id",
                rule="is only sent on the Vonage flavour (connection extra api=vonage); the KPN API Store "
                "does not take it",
                msisdn=msisdn,
            )
        current = self.get_owned_number(msisdn)
        if current.country and current.country != country:
            raise NexmoValidationError(
                f"number {msisdn} belongs to country {current.country}, not {country}",
                field="country",
                rule=f"must be the number's country ({current.country})",
                msisdn=msisdn,
            )
        if not wanted:
            return current
        merged = current.settings()
        merged.update(wanted)
        if merged["voice_callback_value"] and not merged["voice_callback_type"]:
            raise NexmoValidationError(
                field="voice_callback_value", rule="requires voice_callback_type", msisdn=msisdn
            )
        if merged["voice_callback_type"] == DEPRECATED_VOICE_TYPE:
            raise NexmoValidationError(
                f"number {msisdn} has voice_callback_type 'app' (value {merged['voice_callback_value']!r}), "
                "which an update would have to write back",
                field="voice_callback_type",
                rule=DEPRECATED_VOICE_RULE + "; pass voice_callback_type='' (or sip/tel) in this update",
                msisdn=msisdn,
            )
        lost = [name for name in _UNSENDABLE[self.api] if getattr(current, name)]
        if lost and not allow_clearing:
            raise NexmoValidationError(
                f"number {msisdn} carries {', '.join(f'{n}={getattr(current, n)!r}' for n in lost)}, "
                f"which the {self.api} flavour cannot send back; the API replaces every setting on update, "
                "so this update would clear them",
                field=lost[0],
                rule="would be cleared by the update: use the Vonage flavour (api=vonage), or pass "
                "allow_clearing=True to clear them on purpose",
                msisdn=msisdn,
            )
        form = {"country": country, "msisdn": msisdn}
        for name in UPDATE_FIELDS:
            if name in _UNSENDABLE[self.api]:
                continue
            if name in _ALWAYS_WRITTEN or merged[name] or name in wanted:
                form[UPDATE_FIELDS[name]] = merged[name]
        expected = {name: merged[name] for name, wire in UPDATE_FIELDS.items() if wire in form}
        for name, wire in _PRESERVED.items():  # not settable here, but a replace must not drop them
            if getattr(current, name) and name not in _UNSENDABLE[self.api]:
                form[wire] = expected[name] = getattr(current, name)
        if lost:
            log.warning("Updating %s clears %s on purpose (allow_clearing=True)", msisdn, ", ".join(lost))
        self._write_update(form, msisdn)
        return self._read_back(msisdn, expected)

    def _write_update(self, form: dict[str, str], msisdn: str) -> None:
        """`POST /number/update`; a 420 while `moHttpUrl` is sent names the webhook check it may mean."""
        try:
            # A full-state write is safe to repeat, so update is retried like a read.
            self._call("POST /number/update", "POST", "/number/update", data=form, msisdn=msisdn)
        except NexmoMethodFailedError as error:
            url = form.get("moHttpUrl")
            if not url:
                raise
            raise type(error)(
                f"{error.detail}; the API checks mo_http_url before it accepts an update (which re-sends it "
                f"as update replaces every setting): its GET to {redact_url(url)} must answer 200 OK",
                **error._context(),
                **error._extra_state(),
            ) from error

    def _read_back(self, msisdn: str, expected: Mapping[str, str]) -> OwnedNumber:
        """The number once it shows `expected`; a few spaced re-reads absorb a lagging read."""
        for wait in (*_READ_BACK_WAITS, None):
            after = self.get_owned_number(msisdn)
            mismatches = {
                name: (value, getattr(after, name) or "")
                for name, value in expected.items()
                if value != (getattr(after, name) or "")
            }
            if not mismatches:
                return after
            if wait is not None:
                log.info("%s does not show the update yet; reading it again in %.2f s", msisdn, wait)
                self.retry_policy.sleep(wait)
        details = ", ".join(f"{k}: wrote {v[0]!r}, read back {v[1]!r}" for k, v in sorted(mismatches.items()))
        raise NexmoUpdateNotAppliedError(
            f"the API answered success but did not apply the update ({details})",
            operation="POST /number/update",
            msisdn=msisdn,
            mismatches=mismatches,
        )

    # -- lifecycle -------------------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the HTTP session (unless it was passed in by the caller)."""
        if self._own_session:
            self._session.close()

    def __enter__(self) -> NexmoNumbersClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, token_url={self.token_url!r})"
