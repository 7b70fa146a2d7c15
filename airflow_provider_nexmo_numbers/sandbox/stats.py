"""Counters a test reads to prove what happened on the wire (e.g. that a number was bought exactly once)."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

#: The five operations as stats keys; both flavours (KPN and Vonage direct) count under the same keys.
OPERATIONS = (
    "GET /account/numbers",
    "GET /number/search",
    "POST /number/buy",
    "POST /number/cancel",
    "POST /number/update",
)
WRITE_OPERATIONS = ("POST /number/buy", "POST /number/cancel", "POST /number/update")
TOKEN = "token"


class Stats:
    def __init__(self) -> None:
        self.requests: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self.api_requests = 0
        self.token_requests = 0
        self.tokens_issued = 0
        self.tokens_revoked = 0
        self.unknown_fields: Counter[str] = Counter()
        self.purchases: Counter[str] = Counter()
        self.cancellations: Counter[str] = Counter()
        self.updates: Counter[str] = Counter()
        self.writes = 0
        self.faults: Counter[str] = Counter()
        self.webhook_checks: Counter[str] = Counter()

    def record(self, operation: str, status: int | str) -> None:
        """Count one answered request; `status` is the HTTP status, or "dropped" for a dropped connection."""
        self.requests[operation][str(status)] += 1
        if operation == TOKEN:
            self.token_requests += 1
        elif operation in OPERATIONS:
            self.api_requests += 1

    def committed(self, operation: str, msisdn: str) -> None:
        counter = {
            "POST /number/buy": self.purchases,
            "POST /number/cancel": self.cancellations,
            "POST /number/update": self.updates,
        }[operation]
        counter[msisdn] += 1
        self.writes += 1

    def snapshot(self) -> dict[str, Any]:
        return {
            "requests": {op: dict(counts) for op, counts in self.requests.items()},
            "api_requests": self.api_requests,
            "token_requests": self.token_requests,
            "tokens_issued": self.tokens_issued,
            "tokens_revoked": self.tokens_revoked,
            "unknown_fields": dict(self.unknown_fields),
            "purchases": dict(self.purchases),
            "cancellations": dict(self.cancellations),
            "updates": dict(self.updates),
            "writes": self.writes,
            "faults": dict(self.faults),
            "webhook_checks": dict(self.webhook_checks),
        }
