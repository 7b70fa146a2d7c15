"""Fixtures for the webhook-readiness sensor tests (shared with tests/triggers)."""

from tests.sensors.webhook_server import delayed_webhook, local_webhook

__all__ = ["delayed_webhook", "local_webhook"]
