"""Benchmark: client CPU of a listing beside the bare floor and Vonage's own SDK, in the same run.

The same pages of 100 owned numbers are read, in rounds that alternate the variants (so a busy neighbour
weighs on all of them alike) and rotate which one goes first, by:
- `bare`: a `requests.Session` and `.json()` per page, nothing else: the floor no client can beat;
- `client`: `NexmoNumbersClient.iter_owned_numbers` (validated `OwnedNumber` models, what the hook and the
  exports read, with the iterator's guards against a listing that moves: duplicates skipped, count watched);
- `client_pages`: `NexmoNumbersClient.list_owned_numbers` page by page (the same models, no paging logic);
- `vonage_sdk`: `vonage_numbers.Numbers.list_owned_numbers` page by page (its pydantic models), over the
  sandbox's Vonage-direct flavour, which Vonage's SDK reaches only over https.

CPU is this process's `time.process_time()` over the loop (the sandbox runs in its own process). Over plain
http the ratio client/bare is the strict one (target <= 1.2); the https runs put all three on the same
transport, TLS included, for the comparison with the SDK.
"""

from __future__ import annotations

import itertools
import os
import statistics
import time
from typing import Any

import requests

from benchmarks.sandbox_speed import bare_token

TARGET_RATIO = 1.2


def _bare(sb: Any, pages: int, verify: Any) -> int:
    token = bare_token(sb.token_url, sb.client_id, sb.client_secret)
    session = requests.Session()
    session.trust_env = False
    session.verify = verify
    session.headers["Authorization"] = f"Bearer {token}"
    url = sb.base_url + "/account/numbers"

    def numbers() -> Any:  # each number handed to the caller, as the client's iterator does
        for index in range(1, pages + 1):
            response = session.get(url, params={"size": 100, "index": index}, timeout=10)
            response.raise_for_status()
            yield from response.json().get("numbers", ())

    count = sum(1 for _ in numbers())
    session.close()
    return count


def _new_client(sb: Any, verify: Any) -> Any:
    from airflow_provider_nexmo_numbers.client import NexmoNumbersClient

    return NexmoNumbersClient(
        sb.client_id, sb.client_secret, base_url=sb.base_url, token_url=sb.token_url, verify_ssl=verify,
        share_tokens=False,
    )  # fmt: skip


def _client(sb: Any, pages: int, verify: Any) -> int:
    with _new_client(sb, verify) as client:
        return sum(1 for _ in itertools.islice(client.iter_owned_numbers(page_size=100), pages * 100))


def _client_pages(sb: Any, pages: int, verify: Any) -> int:
    with _new_client(sb, verify) as client:

        def numbers() -> Any:
            for index in range(1, pages + 1):
                yield from client.list_owned_numbers(size=100, index=index).numbers

        return sum(1 for _ in numbers())


def _vonage_sdk(sb: Any, pages: int, verify: Any) -> int:
    import vonage_http_client as vhttp
    import vonage_numbers as vn

    auth = vhttp.Auth(api_key=sb.client_id, api_secret=sb.client_secret)
    sdk = vn.Numbers(vhttp.HttpClient(auth, vhttp.HttpClientOptions(rest_host=sb.rest_host, timeout=10)))

    def numbers() -> Any:
        for index in range(1, pages + 1):
            page, _, _ = sdk.list_owned_numbers(vn.ListOwnedNumbersFilter(size=100, index=index))
            yield from page

    count = sum(1 for _ in numbers())
    sdk.http_client._session.close()
    return count


VARIANTS = {"bare": _bare, "client": _client, "client_pages": _client_pages, "vonage_sdk": _vonage_sdk}


def measure(sb: Any, *, pages: int, rounds: int, variants: tuple[str, ...]) -> dict[str, Any]:
    """Median CPU ms per page of each variant over `rounds` alternating rounds, and its ratio to `bare`
    (the median of the per-round ratios; the ratio of the medians is kept beside it)."""
    verify: Any = sb.ca_bundle or True
    cpu: dict[str, list[float]] = {name: [] for name in variants}
    counts: dict[str, int] = {}
    for name in variants:  # warm-up: imports, connection pools, first token
        VARIANTS[name](sb, 1, verify)
    for round_number in range(rounds):
        # Each round starts with a different variant: whichever runs right after another pays for the CPU
        # caches and allocator state that one left (measured: up to 0.06 ms per page for the first client
        # variant after `bare`), so a fixed order would bias the ratios.
        shift = round_number % len(variants)
        for name in variants[shift:] + variants[:shift]:
            start = time.process_time()
            counts[name] = VARIANTS[name](sb, pages, verify)
            cpu[name].append((time.process_time() - start) / pages * 1000)
    per_page = {name: round(statistics.median(values), 3) for name, values in cpu.items()}
    # Paired: each round's ratio to the `bare` run of the same round, then the median. The machine's speed
    # drifts between rounds (frequency, neighbours) by more than the differences measured here; within a
    # round the variants run seconds apart, so the pairing cancels most of that drift.
    paired = {
        name: round(statistics.median(v / b for v, b in zip(cpu[name], cpu["bare"], strict=True)), 3)
        for name in variants
    }
    return {
        "pages": pages,
        "rounds": rounds,
        "numbers_read": counts,
        "cpu_ms_per_page": per_page,
        "ratio_to_bare": paired,
        "ratio_of_medians": {name: round(per_page[name] / per_page["bare"], 3) for name in variants},
    }


def run(sb: Any, *, owned: int, pages: int, rounds: int, log: Any = print) -> dict[str, Any]:
    """Plain http (bare, client), then an https sandbox of the same size (bare, client, Vonage's SDK)."""
    from airflow_provider_nexmo_numbers.sandbox import SandboxConfig, run_sandbox_subprocess

    pages = min(pages, owned // 100)
    sb.admin.reset(owned_numbers=owned)
    sb.admin.set_quota(None)
    result: dict[str, Any] = {"owned": owned, "target_ratio": TARGET_RATIO}
    result["http"] = measure(sb, pages=pages, rounds=rounds, variants=("bare", "client", "client_pages"))
    log(_line("http", result["http"]))
    try:
        import vonage_numbers  # noqa: F401

        with_sdk: tuple[str, ...] = ("bare", "client", "client_pages", "vonage_sdk")
    except ImportError:
        with_sdk = ("bare", "client", "client_pages")
    saved = {name: os.environ.get(name) for name in ("REQUESTS_CA_BUNDLE", "NO_PROXY")}
    with run_sandbox_subprocess(SandboxConfig(tls=True, owned_numbers=owned)) as tls:
        os.environ["REQUESTS_CA_BUNDLE"] = tls.ca_bundle  # Vonage's SDK trusts the sandbox only this way
        os.environ["NO_PROXY"] = "127.0.0.1,localhost"
        try:
            result["https"] = measure(tls, pages=pages, rounds=rounds, variants=with_sdk)
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
    log(_line("https", result["https"]))
    result["passed"] = result["http"]["ratio_to_bare"]["client"] <= TARGET_RATIO
    return result


def _line(transport: str, figures: dict[str, Any]) -> str:
    parts = [
        f"{name} {figures['cpu_ms_per_page'][name]:.2f} ms ({figures['ratio_to_bare'][name]:.2f}x)"
        for name in figures["cpu_ms_per_page"]
    ]
    return f"  listing CPU per page of 100 over {transport}: " + ", ".join(parts)


if __name__ == "__main__":
    from airflow_provider_nexmo_numbers.sandbox import SandboxConfig, run_sandbox_subprocess

    with run_sandbox_subprocess(SandboxConfig(owned_numbers=5_000)) as handle:
        run(handle, owned=5_000, pages=50, rounds=9)
