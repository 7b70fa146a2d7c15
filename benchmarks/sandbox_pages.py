"""Benchmark 5, sandbox speed: pages of 100 owned numbers the sandbox serves per second.

Reuses `benchmarks.sandbox_speed.measure` (its owner's loop: one keep-alive session, one token, pages of 100
cycling through the account) against the shared sandbox process, reset to the account size first. It says
whether the sandbox, not the client, is the ceiling of the export figures: the floor loop of the export
benchmark reads at most this many pages per second.
"""

from __future__ import annotations

from typing import Any

from benchmarks.common import process_cpu_seconds
from benchmarks.sandbox_speed import bare_token, measure


def run(sb: Any, *, owned: int, seconds: float, log: Any = print) -> dict[str, Any]:
    sb.admin.reset(owned_numbers=owned)
    token = bare_token(sb.token_url, sb.client_id, sb.client_secret)
    pid = getattr(sb, "pid", None)
    cpu0 = process_cpu_seconds(pid)
    result: dict[str, Any] = {"owned": owned, "page_size": 100, **measure(sb.base_url, token, owned, seconds)}
    cpu1 = process_cpu_seconds(pid)
    if cpu0 is not None and cpu1 is not None and cpu1 > cpu0:
        # The sandbox's own CPU per page: its capacity on an idle core, whatever else the machine runs.
        per_page = (cpu1 - cpu0) / result["pages"]
        result["server_cpu_ms_per_page"] = round(per_page * 1000, 3)
        result["server_capacity_pages_per_second"] = round(1 / per_page, 1)
    log(
        f"  {result['pages_per_second']} pages/s ({result['numbers_per_second']:,.0f} numbers/s), "
        f"p50 {result['latency_ms_p50']} ms, p95 {result['latency_ms_p95']} ms, "
        f"sandbox CPU {result.get('server_cpu_ms_per_page')} ms/page"
    )
    return result
