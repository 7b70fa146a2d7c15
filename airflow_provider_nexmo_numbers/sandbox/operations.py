"""The five Numbers API operations behind one request pipeline shared by both flavours.

Pipeline, in the order the real stack applies it: read the body -> authenticate (KPN bearer token, or Vonage
api_key/api_secret) -> gateway quota (KPN only: Apigee's quota headers) -> injected latency/faults ->
parameters (400; a body that is not a form has no parameters) -> business rules (420) -> commit -> answer
(or drop the connection after the commit). Where each behaviour comes from: docs/sandbox.md.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response

from . import params as p
from .core import Sandbox
from .faults import CONTROL_KEY, Fault
from .gateway import basic_credentials
from .pool import NumberSpec
from .state import Account, owned_wire
from .stats import OPERATIONS
from .wire import (
    ADDRESS_REQUIRED,
    AUTH_FAILED,
    EMPTY_BODY,
    FAULT_INVALID_TOKEN,
    METHOD_FAILED,
    REASON_HEADER,
    SUCCESS_BODY,
    dumps,
    envelope,
    injected_error_body,
    json_response,
    quota_fault,
)

if TYPE_CHECKING:
    from fastapi import APIRouter

FORM = "application/x-www-form-urlencoded"
#: What the real API answers to a POST whose body is not a form (vonage-ruby-sdk #95): it sees no parameter.
NOT_A_FORM_BODY = {"country": p.REQUIRED}
_AUTH = frozenset({"api_key", "api_secret"})
_PAGING = frozenset({"index", "size", "pattern", "search_pattern"})
KNOWN = {
    # (operation, kpn) -> accepted parameter names
    ("GET /account/numbers", True): _PAGING,
    ("GET /account/numbers", False): _PAGING | _AUTH | {"country", "application_id", "has_application"},
    ("GET /number/search", True): _PAGING | {"country", "type", "features"},
    ("GET /number/search", False): _PAGING | _AUTH | {"country", "type", "features"},
    ("POST /number/buy", True): frozenset({"country", "msisdn"}),
    ("POST /number/buy", False): _AUTH | {"country", "msisdn", "target_api_key"},
    ("POST /number/cancel", True): frozenset({"country", "msisdn"}),
    ("POST /number/cancel", False): _AUTH | {"country", "msisdn", "target_api_key"},
    ("POST /number/update", True): frozenset(
        {
            "country",
            "msisdn",
            "moHttpUrl",
            "moSmppSysType",
            "voiceCallbackType",
            "voiceCallbackValue",
            "voiceStatusCallback",
        }
    ),
}
KNOWN["POST /number/update", False] = (
    KNOWN["POST /number/update", True] | _AUTH | {"app_id", "messagesCallbackType", "messagesCallbackValue"}
)


@dataclass
class Call:
    """One API request on its way through the pipeline."""

    sb: Sandbox
    op: str
    kpn: bool
    client_id: str
    params: Mapping[str, str]
    headers: dict[str, str] = field(default_factory=dict)
    #: A fault the handler plays itself (e.g. "taken": someone else buys the number first).
    fault: Fault | None = None

    @property
    def account(self) -> Account:
        return self.sb.inventory.accounts[self.client_id]

    def answer(self, status: int, body: bytes | Any, reason: str | None = None) -> Response:
        self.sb.stats.record(self.op, status)
        headers = dict(self.headers)
        if reason:
            headers[REASON_HEADER] = reason
        return json_response(body, status, headers)


def _finish(
    sb: Sandbox, op: str, status: int, body: bytes, headers: Mapping[str, str] | None = None
) -> Response:
    sb.stats.record(op, status)
    return json_response(body, status, headers)


def vonage_identity(sb: Sandbox, request: Request, form: Mapping[str, str] | None) -> str | None:
    creds = basic_credentials(request.headers.get("authorization"))
    if creds is None:
        source: Mapping[str, str] = request.query_params
        if "api_key" not in source and form is not None:
            source = form
        key, secret = source.get("api_key"), source.get("api_secret")
        creds = (key, secret) if key and secret else None
    if creds is not None and sb.tokens.check_credentials(*creds):
        return creds[0]
    return None


def add_operation_routes(router: APIRouter, prefix: str, *, kpn: bool) -> None:
    """Route the five operations under `prefix` to `serve`; the flavours differ only in prefix and auth."""
    for operation in OPERATIONS:
        method, path = operation.split(" ", 1)
        name = path.strip("/").replace("/", "_")
        router.add_api_route(prefix + path, _endpoint(operation, kpn), methods=[method], name=name)


def _endpoint(operation: str, kpn: bool) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        return await serve(request.app.state.sandbox, request, operation, kpn=kpn)

    return endpoint


async def serve(sb: Sandbox, request: Request, op: str, *, kpn: bool) -> Response:
    post = request.method == "POST"
    body = await request.body() if post else b""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    form: dict[str, str] | None = None
    if post and (content_type == FORM or (not content_type and not body)):
        form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))

    # 1. authentication
    if kpn:
        client_id, _, fault_body = sb.tokens.verify(request.headers.get("authorization"))
        if client_id is None:
            return _finish(sb, op, 401, fault_body or FAULT_INVALID_TOKEN)
    else:
        client_id = vonage_identity(sb, request, form)
        if client_id is None:
            return _finish(sb, op, 401, envelope(401, AUTH_FAILED))

    # 2. gateway quota (per client id); only KPN's gateway (Apigee) sends quota headers
    allowed, quota_headers = sb.quota.check(client_id)
    if not kpn:
        quota_headers = {}
    if not allowed:
        body_429 = quota_fault(client_id) if kpn else envelope(429, "too many requests")
        return _finish(sb, op, 429, body_429, quota_headers)

    # 3. latency and faults
    if sb.faults.current.latency_ms:
        await asyncio.sleep(sb.faults.current.latency_ms / 1000.0)
    fault = sb.faults.next_fault(op)
    drop = False
    if fault is not None:
        sb.stats.faults[fault.kind] += 1
        early = await _apply_fault(sb, op, fault, client_id, kpn, quota_headers)
        if early is not None:
            return early
        drop = fault.kind == "drop_after_commit"

    # 4. parameters: a body that is not a form carries none, and country is the first one checked
    params: Mapping[str, str] = request.query_params if not post else (form or {})
    call = Call(sb, op, kpn, client_id, params, quota_headers, fault)
    if post and form is None:
        response = call.answer(400, NOT_A_FORM_BODY, f"body is not {FORM} (content type {content_type!r})")
    else:
        for name in p.unknown_fields(params, KNOWN[op, kpn]):
            sb.stats.unknown_fields[name] += 1
        response = await HANDLERS[op](call)

    if drop:
        request.scope[CONTROL_KEY]["drop"] = True
        counts = sb.stats.requests[op]
        counts[str(response.status_code)] -= 1  # it was never answered
        if not counts[str(response.status_code)]:
            del counts[str(response.status_code)]
        counts["dropped"] += 1
    return response


async def _apply_fault(
    sb: Sandbox, op: str, fault: Fault, client_id: str, kpn: bool, headers: dict[str, str]
) -> Response | None:
    """Answer for a fault that replaces the response, or None to carry on (hang finished, drop later)."""
    if fault.kind == "hang":
        finished = await sb.faults.hang(
            fault.seconds if fault.seconds is not None else sb.faults.current.hang_seconds
        )
        if not finished:
            # Released by a reset: nothing is processed, and the answer belongs to the world that was reset,
            # so the fresh stats don't count it (a test must not see the previous test's hang).
            return json_response(injected_error_body(504, kpn=kpn, identifier=client_id), 504, headers)
        return None
    if fault.kind == "revoke_token":
        sb.stats.tokens_revoked += sb.tokens.revoke(client_id=client_id)
        body = FAULT_INVALID_TOKEN if kpn else envelope(401, AUTH_FAILED)
        return _finish(sb, op, 401, body, headers)
    if fault.kind == "status":
        status = fault.status or 500
        extra = dict(headers)
        if fault.retry_after is not None:
            extra["Retry-After"] = f"{fault.retry_after:g}"
        elif status == 429:
            extra["Retry-After"] = "1"
        extra[REASON_HEADER] = "injected fault"
        return _finish(sb, op, status, injected_error_body(status, kpn=kpn, identifier=client_id), extra)
    if fault.kind == "error_code":  # HTTP 200 whose envelope says failure: nothing is processed
        extra = {**headers, REASON_HEADER: "injected fault"}
        body = injected_error_body(fault.status or 500, kpn=False, identifier=client_id)
        return _finish(sb, op, 200, body, extra)
    return None  # drop_after_commit: handled after the operation ran; taken: by the buy handler


def _bad_request(call: Call, errors: p.Errors) -> Response:
    return call.answer(400, errors, "invalid parameters: " + ", ".join(errors))


def _page(count: int, fragments: list[bytes]) -> bytes:
    return b'{"count":%d,"numbers":[' % count + b",".join(fragments) + b"]}"


async def list_owned(call: Call) -> Response:
    errors: p.Errors = {}
    index, size = p.paging(call.params, errors)
    pattern, mode = p.pattern(call.params, errors)
    country = application_id = has_application = None
    strict = call.sb.strict
    if not call.kpn:
        country = p.country(call.params, errors, required=False, strict=strict)
        application_id = p.opt(call.params, "application_id")
        has_application = p.boolean(call.params, "has_application", errors, strict=strict)
    if errors:
        return _bad_request(call, errors)
    account = call.account
    numbers, lo, hi = account.matching(
        pattern, mode, country=country, application_id=application_id, has_application=has_application
    )
    start = lo + (index - 1) * size
    if start >= hi:
        return call.answer(200, EMPTY_BODY)
    page = numbers[start : min(hi, start + size)]
    fragments = account.fragments(page, kpn=call.kpn)
    lagging = call.sb.lagging
    if lagging:  # a read-after-write lag: recently updated numbers still show their old record
        now = time.monotonic()
        for i, msisdn in enumerate(page):
            stale = lagging.get((call.client_id, msisdn))
            if stale is not None and now < stale[0]:
                fragments[i] = dumps(owned_wire(stale[1], kpn=call.kpn))
    return call.answer(200, _page(hi - lo, fragments))


def _available_wire(spec: NumberSpec, kpn: bool) -> bytes:
    data: dict[str, Any] = {
        "country": spec.country,
        "msisdn": spec.msisdn,
        "type": spec.type,
        "cost": spec.cost,
        "features": list(spec.features),
    }
    if spec.initial_price is not None:
        data["initialPrice"] = spec.initial_price
    return dumps(data)


async def search(call: Call) -> Response:
    errors: p.Errors = {}
    country = p.country(call.params, errors, required=True, strict=call.sb.strict)
    number_type = p.number_type(call.params, errors)
    wanted = p.features(call.params, errors, kpn=call.kpn, strict=call.sb.strict)
    pattern, mode = p.pattern(call.params, errors)
    index, size = p.paging(call.params, errors)
    if errors or country is None:
        return _bad_request(call, errors)
    if number_type is None and call.kpn:
        number_type = call.sb.config.kpn_default_search_type
    pool = call.sb.inventory.pool
    specs = pool.specs
    found = []
    for msisdn in pool.available(country):
        spec = specs[msisdn]
        if number_type is not None and spec.type != number_type:
            continue
        if wanted is not None and not set(wanted).issubset(spec.features):
            continue
        if pattern is not None and not (
            msisdn.startswith(pattern)
            if mode == 0
            else (pattern in msisdn if mode == 1 else msisdn.endswith(pattern))
        ):
            continue
        found.append(spec)
    start = (index - 1) * size
    if start >= len(found):
        return call.answer(200, EMPTY_BODY)
    cache = call.sb.search_fragments[call.kpn]
    fragments = []
    for spec in found[start : start + size]:
        frag = cache.get(spec.msisdn)
        if frag is None:
            frag = cache[spec.msisdn] = _available_wire(spec, call.kpn)
        fragments.append(frag)
    return call.answer(200, _page(len(found), fragments))


def _target_account(call: Call) -> str | None:
    """Vonage's target_api_key acts on a (configured) sub-account; None if it is not one."""
    target = None if call.kpn else p.opt(call.params, "target_api_key")
    if target is None:
        return call.client_id
    return target if target in call.sb.inventory.accounts else None


async def buy(call: Call) -> Response:
    return await _buy_or_cancel(call, buying=True)


async def cancel(call: Call) -> Response:
    return await _buy_or_cancel(call, buying=False)


async def _buy_or_cancel(call: Call, *, buying: bool) -> Response:
    errors: p.Errors = {}
    country = p.country(call.params, errors, required=True, strict=call.sb.strict)
    msisdn = p.msisdn(call.params, errors)
    if errors or country is None or msisdn is None:
        return _bad_request(call, errors)
    account_id = _target_account(call)
    if account_id is None:
        return call.answer(401, envelope(401, AUTH_FAILED), "target_api_key is not a sub-account")
    sb = call.sb
    if buying and country in sb.config.address_required_countries:
        return call.answer(420, envelope(420, ADDRESS_REQUIRED), f"{country} requires a local address")
    inventory = sb.inventory
    if buying and call.fault is not None and call.fault.kind == "taken":
        inventory.take_for_someone_else(msisdn)  # another customer bought it since our search
    why = (
        inventory.buy(account_id, country, msisdn)
        if buying
        else inventory.cancel(account_id, country, msisdn)
    )
    if why is not None:
        return call.answer(420, envelope(420, METHOD_FAILED), why)
    sb.stats.committed(call.op, msisdn)
    return call.answer(200, SUCCESS_BODY)


async def update(call: Call) -> Response:
    params, errors = call.params, {}
    country = p.country(params, errors, required=True, strict=call.sb.strict)
    msisdn = p.msisdn(params, errors)
    mo_http_url = p.url(params, "moHttpUrl", errors)
    status_url = p.url(params, "voiceStatusCallback", errors)
    voice = p.paired(
        params, "voiceCallbackType", "voiceCallbackValue", ("sip", "tel", "app"), p.MSG_VOICE_TYPE, errors
    )
    messages = (None, None)
    if not call.kpn:
        messages = p.paired(
            params, "messagesCallbackType", "messagesCallbackValue", ("app",), p.MSG_MESSAGES_TYPE, errors
        )
    if errors or country is None or msisdn is None:
        return _bad_request(call, errors)
    if voice[0] == "app":  # observed: the real API answered 500 to the deprecated type (rapidpro #2914)
        return call.answer(500, envelope(500, "internal error"), "voiceCallbackType=app is deprecated")
    account = call.account
    if msisdn not in account:
        return call.answer(420, envelope(420, METHOD_FAILED), "number is not owned by this account")
    current = account.get(msisdn)
    if current["country"] != country:
        return call.answer(
            420, envelope(420, METHOD_FAILED), f"number belongs to country {current['country']}"
        )
    sb = call.sb
    if mo_http_url is not None and sb.webhook_check:
        ok, reason = await sb.checker.check(mo_http_url)
        sb.stats.webhook_checks["passed" if ok else "failed"] += 1
        if not ok:
            return call.answer(420, envelope(420, METHOD_FAILED), reason)
        if msisdn not in account:  # cancelled while we waited for the webhook
            return call.answer(420, envelope(420, METHOD_FAILED), "number is not owned by this account")
        current = account.get(msisdn)
    # replace semantics: every configuration field not sent is cleared
    record: dict[str, Any] = {key: current[key] for key in ("country", "msisdn", "type", "features")}
    sent = {
        "moHttpUrl": mo_http_url,
        "voiceCallbackType": voice[0],
        "voiceCallbackValue": voice[1],
        "moSmppSysType": p.opt(params, "moSmppSysType"),
        "voiceStatusCallback": status_url,
        "messagesCallbackType": messages[0],
        "messagesCallbackValue": messages[1],
        "app_id": None if call.kpn else p.opt(params, "app_id"),
    }
    record.update((key, value) for key, value in sent.items() if value is not None)
    if sb.read_lag:
        sb.lagging[call.client_id, msisdn] = (time.monotonic() + sb.read_lag, dict(current))
    account.replace(msisdn, record)
    sb.stats.committed(call.op, msisdn)
    return call.answer(200, SUCCESS_BODY)


HANDLERS: dict[str, Callable[[Call], Awaitable[Response]]] = {
    "GET /account/numbers": list_owned,
    "GET /number/search": search,
    "POST /number/buy": buy,
    "POST /number/cancel": cancel,
    "POST /number/update": update,
}
