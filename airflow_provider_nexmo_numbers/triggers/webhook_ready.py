"""NexmoWebhookReadyTrigger, the deferrable half of NexmoWebhookReadySensor (run in the triggerer).

The class lives in `triggers._webhook_ready` and is loaded on first access (PEP 562): it subclasses Airflow's
`BaseTrigger`, whose module costs about 10 ms to import, and a DAG processor that imports this module (to
list the provider's triggers, or through a DAG file) must not pay for that. The triggerer resolves the
classpath ``airflow_provider_nexmo_numbers.triggers.webhook_ready.NexmoWebhookReadyTrigger`` through
`getattr`, which lands here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_provider_nexmo_numbers.triggers._webhook_ready import NexmoWebhookReadyTrigger

__all__ = ["NexmoWebhookReadyTrigger"]


def __getattr__(name: str) -> Any:
    if name == "NexmoWebhookReadyTrigger":
        from airflow_provider_nexmo_numbers.triggers._webhook_ready import NexmoWebhookReadyTrigger

        globals()[name] = NexmoWebhookReadyTrigger
        return NexmoWebhookReadyTrigger
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
