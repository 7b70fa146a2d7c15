"""An account that changes while the export pages through it (issue 11, Data), over HTTP.

The account is changed between two page fetches of the export through a second, independent client (real
cancel and buy requests to the sandbox); the export's own pages are the real ones. A listing without
`count` comes from a small stdlib server (the sandbox always sends one).
"""

from __future__ import annotations

import csv
import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from airflow_provider_nexmo_numbers.client.paging import ListingChangedError
from airflow_provider_nexmo_numbers.hooks.nexmo_numbers import NexmoNumbersHook
from airflow_provider_nexmo_numbers.transfers.to_file import NexmoNumbersToFileOperator
from tests.fixtures.airflow import set_nexmo_connection
from tests.transfers.conftest import run_context


class _BetweenPages:
    """The export's hook, unchanged, except that `action()` runs once right after page `after` arrived."""

    def __init__(self, hook: NexmoNumbersHook, after: int, action: Callable[[], None]) -> None:
        self._hook, self._after, self._action, self.calls = hook, after, action, 0

    def list_owned_numbers(self, **kwargs: Any) -> Any:
        page = self._hook.list_owned_numbers(**kwargs)
        self.calls += 1
        if self.calls == self._after:
            self._action()
        return page

    def __getattr__(self, name: str) -> Any:
        return getattr(self._hook, name)


def _export(
    path, after: int, action: Callable[[], None], **kwargs: Any
) -> tuple[NexmoNumbersToFileOperator, Any]:
    op = NexmoNumbersToFileOperator(task_id="export", path=str(path), **kwargs)
    proxy = _BetweenPages(NexmoNumbersHook(nexmo_conn_id=op.nexmo_conn_id), after, action)
    op.__dict__["hook"] = proxy  # the cached_property's slot: the export uses this hook
    return op, proxy


def _csv_msisdns(path) -> list[str]:
    with open(path, newline="", encoding="utf-8") as fh:
        return [row["msisdn"] for row in csv.DictReader(fh)]


@pytest.fixture
def account(sandbox, nexmo_conn) -> list[str]:
    """250 owned GB numbers (447400000000 ...), sorted as the API lists them."""
    sandbox.admin.seed_owned(250, country="GB", configured=True)
    return sorted(n["msisdn"] for n in sandbox.admin.owned())


def _release_before_and_buy_after(sandbox, released: str) -> Callable[[], None]:
    """One number released before the export's position, one bought after it: `count` stays the same."""
    other = NexmoNumbersHook()  # a second client on the same account

    def act() -> None:
        bought = max(n["msisdn"] for n in sandbox.admin.pool("GB"))  # sorts after every owned number
        other.cancel_number("GB", released)
        other.buy_number("GB", bought)
        other.close()

    return act


def test_count_unchanged_shift_between_pages_loses_no_number(sandbox, account, tmp_path):
    released = account[5]
    path = tmp_path / "numbers.csv"
    op, proxy = _export(path, after=1, action=_release_before_and_buy_after(sandbox, released))
    summary = op.execute(run_context())

    exported = _csv_msisdns(path)
    assert len(exported) == len(set(exported))  # no duplicates
    owned_throughout = set(account) - {released}
    assert owned_throughout <= set(exported), sorted(owned_throughout - set(exported))
    assert len(sandbox.admin.owned()) == 250  # the count did not change
    assert summary["rereads"] >= 1
    assert summary["pages"] == proxy.calls


def test_without_verification_the_same_shift_loses_a_number(sandbox, account, tmp_path):
    """What the overlap protects against (and the documented price of `verify_listing=False`)."""
    path = tmp_path / "numbers.csv"
    op, _ = _export(
        path, after=1, action=_release_before_and_buy_after(sandbox, account[5]), verify_listing=False
    )
    op.execute(run_context())
    assert account[100] not in _csv_msisdns(path)


def test_listing_emptied_under_the_export_fails_and_keeps_the_previous_file(sandbox, account, tmp_path):
    path = tmp_path / "numbers.csv"
    path.write_text("previous export\n")
    other = NexmoNumbersHook()

    def release_most() -> None:
        for msisdn in account[:200]:
            other.cancel_number("GB", msisdn)
        other.close()

    op, _ = _export(path, after=1, action=release_most)
    with pytest.raises(ListingChangedError, match="kept changing"):
        op.execute(run_context())
    assert path.read_text() == "previous export\n"
    assert [p.name for p in tmp_path.iterdir()] == ["numbers.csv"]  # no temporary file left


class _CountlessListing(BaseHTTPRequestHandler):
    """GET /account/numbers with the API's paging, but no `count` in any answer (`{}` past the end)."""

    numbers: list[dict[str, Any]] = []

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        index, size = int(query.get("index", 1)), int(query.get("size", 10))
        chunk = self.numbers[(index - 1) * size : index * size]
        body = json.dumps({"numbers": chunk} if chunk else {}).encode()
        self.send_response(200 if url.path.endswith("/account/numbers") else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def countless_api(sandbox) -> Iterator[str]:
    """The URL of a listing of 250 numbers that never reports `count`."""
    handler = type("Handler", (_CountlessListing,), {})
    handler.numbers = [
        {"country": "NL", "msisdn": str(31970000000 + n), "type": "mobile-lvn", "features": ["SMS"]}
        for n in range(250)
    ]
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


@pytest.mark.parametrize("verify_listing", [True, False])
def test_pages_without_count_are_exported_to_the_end(
    sandbox, countless_api, monkeypatch, tmp_path, verify_listing
):
    conn_id = set_nexmo_connection(monkeypatch, "nexmo_countless", sandbox, host=countless_api)
    path = tmp_path / "numbers.csv"
    op = NexmoNumbersToFileOperator(
        task_id="export", path=str(path), nexmo_conn_id=conn_id, verify_listing=verify_listing
    )
    summary = op.execute(run_context())
    assert summary["rows"] == 250
    assert len(set(_csv_msisdns(path))) == 250
