"""Fixtures for the webhook-readiness sensor tests (shared with tests/triggers), and the triggerer's loop."""

from __future__ import annotations

import asyncio
import time

from airflow_provider_nexmo_numbers.triggers.webhook_ready import NexmoWebhookReadyTrigger
from tests.sensors.webhook_server import delayed_webhook, local_webhook

__all__ = ["delayed_webhook", "local_webhook", "run_until_event"]


def run_until_event(trigger: NexmoWebhookReadyTrigger, limit: float = 20.0) -> tuple[dict, float]:
    """Drive the trigger as the triggerer does (first event only); return its payload and elapsed time."""

    async def first_event():
        generator = trigger.run()
        try:
            return await asyncio.wait_for(generator.__anext__(), timeout=limit)
        finally:
            await generator.aclose()

    started = time.monotonic()
    event = asyncio.run(first_event())
    return event.payload, time.monotonic() - started
