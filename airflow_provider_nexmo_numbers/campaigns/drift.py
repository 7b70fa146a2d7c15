"""Drift: how the account differs from what a campaign wants and from what the ledger recorded.

Terraform's ``plan`` on an unchanged configuration reports drift (a resource changed by hand); this is the
same for a campaign, read-only: a campaign number reconfigured by hand, a number the ledger holds for the
campaign that the account no longer owns (released by hand), an owned number carrying the campaign's marker
that the ledger does not know (bought outside it), and a count that is off. Pure: no I/O here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

from airflow_provider_nexmo_numbers.campaigns.plan import settings_diff
from airflow_provider_nexmo_numbers.campaigns.selector import NumberSelector, field_of

__all__ = ["Drift", "find_drift", "render_drift"]


@dataclasses.dataclass(frozen=True)
class Drift:
    """One difference: ``kind`` is reconfigured, released, unknown_to_ledger, short or surplus."""

    kind: str
    msisdn: str
    detail: str

    def to_dict(self) -> dict[str, str]:
        return dataclasses.asdict(self)


def find_drift(
    *,
    owned: Iterable[Any],
    selector: NumberSelector,
    count: int | None,
    configuration: Mapping[str, str],
    recorded: Iterable[Mapping[str, Any]],
) -> list[Drift]:
    """Differences between the account (``owned``), the desired state (``selector``, ``count``,
    ``configuration``) and the ledger (``recorded``: its owned rows for this campaign)."""
    account = {str(field_of(n, "msisdn")): n for n in owned}
    ledger = {str(row["msisdn"]): row for row in recorded}
    found: list[Drift] = []
    for msisdn in sorted(ledger):
        number = account.get(msisdn)
        if number is None:
            found.append(
                Drift("released", msisdn, "the ledger holds it for the campaign; the account does not own it")
            )
            continue
        diff = settings_diff(number, configuration)
        if diff:
            have = {name: field_of(number, name) or "" for name in diff}
            found.append(Drift("reconfigured", msisdn, f"carries {have}, the campaign wants {dict(diff)}"))
    campaign = {m for m, n in account.items() if selector.matches(n)}
    for msisdn in sorted(campaign - ledger.keys()):
        found.append(
            Drift("unknown_to_ledger", msisdn, "carries the campaign's marker; no purchase recorded")
        )
    held = len(campaign | (ledger.keys() & account.keys()))
    if count is not None and held < count:
        found.append(Drift("short", "-", f"the campaign holds {held} number(s), wants {count}"))
    elif count is not None and held > count:
        found.append(Drift("surplus", "-", f"the campaign holds {held} number(s), wants {count}"))
    return found


def render_drift(drift: Iterable[Drift]) -> str:
    """A fixed-width table for task logs."""
    rows = [("KIND", "MSISDN", "DETAIL"), *((d.kind, d.msisdn, d.detail) for d in drift)]
    if len(rows) == 1:
        return "no drift: the account matches the campaign and the ledger"
    widths = [max(len(row[i]) for row in rows) for i in range(2)]
    return "\n".join(f"{r[0].ljust(widths[0])}  {r[1].ljust(widths[1])}  {r[2]}" for r in rows)
