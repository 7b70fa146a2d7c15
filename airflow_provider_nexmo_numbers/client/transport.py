"""Send a request through the client's own session with only the per-request work the API needs.

`requests.Session.request` does, for every request, what this client never uses: it merges and re-renders a
cookie jar (twice: into the request, and out of the answer through `http.cookiejar`), merges hooks, auth and
the environment, and wraps the send in its redirect machinery. For a page of 100 numbers that was about a
third of the CPU of the whole request (0.13 of 0.43 ms per page, measured on this project's listing
benchmark), more than validating the page into models costs.

`send` keeps what matters, mostly as requests' own code: the URL (`prepare_url`, once per distinct URL) and
its query (the same encoding), headers (`prepare_headers`, the same checks), form bodies (`prepare_body`),
the session's mounted adapter (so `BudgetAdapter`'s cut-off at the deadline, the connection pool, TLS
verification and the proxies read once from the environment all apply), redirects (resolved by the session
exactly as `Session.send` would, on the rare answer that is one) and the body read before returning. What
it drops is cookies: the API authenticates every request by its token, and no cookie a load balancer may set
is needed for correctness. `ClientAdapter` also remembers the connection pool of each origin, which requests
looks up anew (parsing the URL, checking the CA bundle path on disk) for every request.

Only for sessions the client made itself: a session passed in by the caller may carry hooks, auth, cookies
or overridden methods that must run, so it goes through `Session.request` unchanged.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import requests
from requests.cookies import RequestsCookieJar
from requests.models import PreparedRequest
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers
from urllib3.connectionpool import HTTPConnectionPool

from airflow_provider_nexmo_numbers.client.budget import BudgetAdapter

__all__ = ["ClientAdapter", "send"]

#: Origins whose pool a `ClientAdapter` remembers (a client talks to one or two; redirects could add more).
_MAX_REMEMBERED_POOLS = 16


class ClientAdapter(BudgetAdapter):
    """The adapter of the client's own sessions: `BudgetAdapter`, remembering each origin's pool and leaving
    cookies alone."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pools: dict[tuple[str, Any, Any], HTTPConnectionPool] = {}

    def get_connection_with_tls_context(
        self, request: PreparedRequest, verify: Any, proxies: Any = None, cert: Any = None
    ) -> HTTPConnectionPool:
        if proxies:  # proxy selection stays requests' own, per request
            return super().get_connection_with_tls_context(request, verify, proxies, cert)
        scheme, _, rest = str(request.url).partition("://")
        key = (f"{scheme.lower()}://{rest.split('/', 1)[0]}", verify, cert)
        pool = self._pools.get(key)
        if pool is None or pool.pool is None:  # new, or closed since (urllib3 1.26 closes what it evicts)
            if len(self._pools) >= _MAX_REMEMBERED_POOLS:
                self._pools.clear()
            pool = self._pools[key] = super().get_connection_with_tls_context(request, verify, proxies, cert)
        return pool

    def build_response(self, req: PreparedRequest, resp: Any) -> requests.Response:
        """requests' own `build_response` (an override point it documents) without reading cookies out of
        the answer, which the client never sends back (see the module docstring)."""
        response = requests.Response()
        response.status_code = getattr(resp, "status", None)  # type: ignore[assignment]
        response.headers = CaseInsensitiveDict(getattr(resp, "headers", {}))
        response.encoding = get_encoding_from_headers(response.headers)
        response.raw = resp
        response.reason = resp.reason
        response.url = req.url.decode("utf-8") if isinstance(req.url, bytes) else req.url  # type: ignore[assignment]
        response.request = req
        response.connection = self  # type: ignore[attr-defined]
        return response

    def close(self) -> None:
        """Close the remembered pools too (urllib3 2's pool manager only forgets its own)."""
        pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.close()
        super().close()


@functools.lru_cache(maxsize=64)
def _normalised_url(url: str) -> str:
    """`url` as requests would send it (IDNA host, re-quoted path): a client has a handful of distinct URLs
    and requests' parsing of one was the costliest step of preparing a request."""
    prepared = PreparedRequest()
    prepared.prepare_url(url, None)
    return prepared.url


def _query(params: Mapping[str, Any]) -> str:
    """requests' encoding of `params`: None values left out, a list or tuple as repeated keys."""
    pairs = [
        (key, item)
        for key, value in params.items()
        for item in (value if isinstance(value, (list, tuple)) else (value,))
        if item is not None
    ]
    return urlencode(pairs)


def _prepare(
    session: requests.Session,
    method: str,
    url: str,
    params: Mapping[str, Any] | None,
    data: Mapping[str, Any] | None,
    headers: Mapping[str, str],
) -> PreparedRequest:
    prepared = PreparedRequest()
    prepared.method = method.upper()
    base = _normalised_url(url)
    query = _query(params) if params else ""
    prepared.url = f"{base}{'&' if '?' in base else '?'}{query}" if query else base
    prepared.prepare_headers({**session.headers, **headers})
    prepared.prepare_body(data, None)
    prepared.hooks = {"response": []}
    return prepared


def send(
    session: requests.Session,
    method: str,
    url: str,
    *,
    params: Mapping[str, Any] | None = None,
    data: Mapping[str, Any] | None = None,
    headers: Mapping[str, str],
    timeout: Any,
    verify: Any,
) -> requests.Response:
    """The response to one request (body read), as `session.request` would give it for this client."""
    prepared = _prepare(session, method, url, params, data, headers)
    options = {"stream": False, "timeout": timeout, "verify": verify, "cert": session.cert,
               "proxies": session.proxies}  # fmt: skip
    response = session.get_adapter(prepared.url).send(prepared, **options)
    if response.is_redirect:
        prepared._cookies = RequestsCookieJar()  # resolve_redirects carries a jar from hop to hop
        history = [response, *session.resolve_redirects(response, prepared, **options)]
        response = history.pop()
        response.history = history
    response.content  # noqa: B018 - read within the call's budget, as Session.send does
    return response
