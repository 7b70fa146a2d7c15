"""The bookkeeping of a wait: when to log, and when "can never be ready" answers end it.

A six-hour wait at one attempt every 2 s is 10,800 attempts; one log line each buries the one line that
matters. `Progress` logs the first attempt, every change of outcome, a summary at attempts 2, 4, 8, 16, ...
(a handful per hour, counts per outcome included) and the final one. It also counts consecutive permanent
outcomes, so the caller can fail after `max_permanent_failures` of them instead of waiting for the timeout.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from airflow_provider_nexmo_numbers.readiness.outcome import Outcome, Verdict, redact_url


@dataclass
class Progress:
    url: str
    max_permanent_failures: int
    attempts: int = 0
    permanent_in_a_row: int = 0
    last: Outcome | None = None
    last_status_code: int | None = None  # the last HTTP status seen, even if later attempts got no answer
    counts: Counter[str] = field(default_factory=Counter)

    def record(self, outcome: Outcome, *, attempt: int | None = None) -> str | None:
        """Count one attempt (numbered `attempt` when an earlier process made the previous ones, as in
        reschedule mode); return the line to log for it, or None when the summary will cover it."""
        self.attempts = attempt if attempt is not None else self.attempts + 1
        changed = self.last is None or outcome.key != self.last.key
        self.last = outcome
        if outcome.status_code is not None:
            self.last_status_code = outcome.status_code
        self.counts[outcome.key] += 1
        self.permanent_in_a_row = self.permanent_in_a_row + 1 if outcome.verdict is Verdict.PERMANENT else 0
        if changed or outcome.verdict is Verdict.READY or self.gives_up:
            url = redact_url(self.url)
            return f"Webhook readiness attempt {self.attempts}: GET {url} -> {outcome.describe()}"
        if self.attempts & (self.attempts - 1) == 0:  # a power of two
            return self.summary()
        return None

    @property
    def gives_up(self) -> bool:
        """True once the last `max_permanent_failures` attempts all said "can never be ready"."""
        return self.permanent_in_a_row >= self.max_permanent_failures

    def summary(self) -> str:
        tally = ", ".join(f"{key} x{count}" for key, count in self.counts.most_common())
        last = self.last.describe() if self.last else "nothing yet"
        return (
            f"Webhook {redact_url(self.url)} not ready after {self.attempts} attempts ({tally}); last: {last}"
        )

    def failure_message(self) -> str:
        """Why the wait ends early: the repeated permanent outcome and what to check."""
        last = self.last.describe() if self.last else "?"
        return (
            f"webhook {redact_url(self.url)} can never be ready as configured: {self.permanent_in_a_row} "
            f"attempts in a row got {last}"
        )
