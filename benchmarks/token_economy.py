"""Benchmark 2, token economy: how many OAuth2 tokens 1,000 API calls in one process cost (target: 1).

Goes through the hook, as a task would (connection from an AIRFLOW_CONN_ variable, client built by the hook),
alternating owned-number listings and searches; the sandbox counts the grants it issued.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

TARGET_TOKENS = 1
CONN_ID = "nexmo_bench_tokens"


def run(sb: Any, *, calls: int, log: Any = print) -> dict[str, Any]:
    from airflow_provider_nexmo_numbers.hooks.nexmo_numbers import NexmoNumbersHook

    sb.admin.reset(owned_numbers=1000)
    os.environ["AIRFLOW_CONN_" + CONN_ID.upper()] = json.dumps(
        {
            "conn_type": "nexmo_numbers",
            "host": sb.base_url,
            "login": sb.client_id,
            "password": sb.client_secret,
            "extra": {"token_url": sb.token_url, "rate_limit": 0, "timeout": 10, "max_retries": 3},
        }
    )
    hook = NexmoNumbersHook(nexmo_conn_id=CONN_ID)
    t0 = time.perf_counter()
    for i in range(calls):
        if i % 2 == 0:
            hook.list_owned_numbers(size=10, index=1 + (i // 2) % 100)
        else:
            hook.search_available_numbers("GB", size=10)
    seconds = time.perf_counter() - t0
    client_stats = hook.get_conn().stats
    hook.close()
    stats = sb.admin.stats()
    result = {
        "target_tokens": TARGET_TOKENS,
        "api_calls": calls,
        "sandbox_api_requests": stats["api_requests"],
        "sandbox_token_requests": stats["token_requests"],
        "tokens_issued": stats["tokens_issued"],
        "client_token_fetches": client_stats["token_fetches"],
        "client_retries": client_stats["retries"],
        "seconds": round(seconds, 2),
        "calls_per_second": round(calls / seconds, 1),
    }
    result["passed"] = result["tokens_issued"] == TARGET_TOKENS and result["sandbox_api_requests"] == calls
    log(f"  {calls} calls -> {result['tokens_issued']} token(s) in {result['seconds']} s")
    return result
