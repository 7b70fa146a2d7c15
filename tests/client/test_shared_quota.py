"""Processes sharing one client id's quota, with the client's default pacing (real processes).

Before: every process paced itself at a fixed 2 requests/s, whatever the quota; four of them against a
quota of 5/s sent 8/s and drew a 429 for every third request or so. The processes never talk to each other:
each learns the project's quota and how many share it from the quota-* headers. Four processes starting in
the same instant against a limit of only 5 per window cannot know of each other before their second answer,
so each may draw one 429 while it learns (retried after the reset); after that, none. Only counts are
asserted; the speed is in benchmarks/quota_processes.py (two and four processes, 0 x 429, >= 95%).
"""

from __future__ import annotations

import multiprocessing
import time

from tests.client.conftest import request_counts

LIST = "GET /account/numbers"
PAGES = 8


def _page_through(args: tuple[dict, float]) -> int:
    from airflow_provider_nexmo_numbers.client import NexmoNumbersClient

    settings, start = args
    client = NexmoNumbersClient(settings.pop("client_id"), settings.pop("client_secret"), **settings)
    client.tokens.get_token()
    time.sleep(max(0.0, start - time.time()))
    for index in range(1, PAGES + 1):
        client.list_owned_numbers(size=10, index=index)
    client.close()
    return client.stats["retries"]


def test_four_processes_share_a_quota_without_429(sandbox):
    sandbox.admin.reset(owned_numbers=100)
    sandbox.admin.set_quota(rps=5)
    settings = {"client_id": sandbox.client_id, "client_secret": sandbox.client_secret,
                "base_url": sandbox.base_url, "token_url": sandbox.token_url}  # fmt: skip
    start = time.time() + 6.0  # every spawned interpreter is up and has its token
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        retries = pool.map(_page_through, [(dict(settings), start)] * 4, chunksize=1)
    counts = request_counts(sandbox, LIST)
    assert counts["200"] == 4 * PAGES
    assert counts.get("429", 0) <= 4  # at most one per process, while it learns
    assert sum(retries) == counts.get("429", 0)
