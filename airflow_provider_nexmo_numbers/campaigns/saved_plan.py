"""Saved plans, as Terraform's ``plan -out`` / ``apply``: a plan made now (a dry run's XCom), reviewed and
approved, is applied later only if it still holds.

"Still holds" means: planning again against the account as it is now, with the saved plan's numbers as the
only purchase candidates (each re-priced by a fresh search), gives exactly the same plan: the same numbers in
every action, the same settings to write, the same monthly and initial prices, for the same selector, count
and configuration. Anything else (a number bought, released or reconfigured meanwhile, a price that moved, a
candidate gone) refuses the apply with the list of differences, before any write. Pure: no I/O here.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

__all__ = ["digest", "plan_differences", "saved_plan_of", "signature"]

_ACTIONS = ("keep", "reconfigure", "adopt", "buy", "surplus")


def saved_plan_of(value: Any) -> dict[str, Any]:
    """The plan dict from a saved plan as given: an ensure XCom (its ``plan``) or the plan itself."""
    if isinstance(value, Mapping) and isinstance(value.get("plan"), Mapping):
        value = value["plan"]
    if not isinstance(value, Mapping) or not all(action in value for action in _ACTIONS):
        raise ValueError("must be a saved plan: an ensure dry run's XCom or its 'plan'")
    return dict(value)


def signature(plan: Mapping[str, Any]) -> dict[str, Any]:
    """What must not change between plan and apply (a `Plan.to_dict()` or a saved copy of one)."""
    return {
        "selector": plan.get("selector"),
        "count": plan.get("count"),
        "configuration": dict(plan.get("configuration") or {}),
        **{
            action: sorted(
                (
                    item["msisdn"],
                    item.get("monthly_cost"),
                    item.get("initial_price"),
                    sorted((item.get("changes") or {}).items()),
                )
                for item in plan.get(action) or ()
            )
            for action in _ACTIONS
        },
    }


def digest(plan: Mapping[str, Any]) -> str:
    """A short fingerprint of the plan's signature, to name the plan an approval was given for."""
    text = json.dumps(signature(plan), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def plan_differences(saved: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    """Readable differences between a saved plan and the plan of now; empty when the saved plan holds."""
    old, new = signature(saved), signature(current)
    problems = [
        f"{key} was {old[key]!r}, is now {new[key]!r}"
        for key in ("selector", "count", "configuration")
        if old[key] != new[key]
    ]
    for action in _ACTIONS:
        before = {row[0]: row for row in old[action]}
        after = {row[0]: row for row in new[action]}
        for msisdn in sorted(before.keys() - after.keys()):
            problems.append(f"{action} {msisdn}: planned, no longer possible now")
        for msisdn in sorted(after.keys() - before.keys()):
            problems.append(f"{action} {msisdn}: not in the saved plan")
        for msisdn in sorted(before.keys() & after.keys()):
            if before[msisdn] != after[msisdn]:
                _, cost, initial, changes = before[msisdn]
                _, cost2, initial2, changes2 = after[msisdn]
                if (cost, initial) != (cost2, initial2):
                    problems.append(
                        f"{action} {msisdn}: price was EUR {cost} (initial {initial}), is now EUR {cost2} "
                        f"(initial {initial2})"
                    )
                if changes != changes2:
                    problems.append(
                        f"{action} {msisdn}: settings to write were {changes}, are now {changes2}"
                    )
    return problems
