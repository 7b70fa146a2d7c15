"""The sandbox's whole mutable world in one object: reset is one call, nothing hides in module globals."""

from __future__ import annotations

from typing import Any

from .config import SandboxConfig
from .faults import FaultInjector
from .gateway import Quota, TokenStore
from .state import Inventory
from .stats import Stats
from .webhooks import DemoWebhooks, WebhookChecker


class Sandbox:
    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.checker = WebhookChecker(
            config.webhook_timeout, ca_bundle=config.ssl_certfile if config.tls else None
        )
        self.faults = FaultInjector()
        self.quota = Quota(None)
        self.tokens = TokenStore(config.clients, config.token_ttl)
        self.reset()
        # faults and quota from the start configuration (reset() turns them off)
        self.faults.configure(**config.fault_settings())
        self.quota.set(config.quota_rps)

    def reset(self, seed: int | None = None, owned_numbers: int | None = None) -> dict[str, Any]:
        """Fresh pool and accounts; faults, quota off; stats zeroed; tokens dropped; demo webhook re-armed."""
        cfg = self.config
        self.seed = cfg.seed if seed is None else int(seed)
        self.inventory = Inventory(seed=self.seed, per_type=cfg.pool_per_type, clients=list(cfg.clients))
        owned = cfg.owned_numbers if owned_numbers is None else int(owned_numbers)
        if owned:
            self.inventory.seed_owned(cfg.first_client[0], owned, cfg.owned_country, configured=True)
        self.stats = Stats()
        self.faults.release_hangs()
        self.faults.clear_queue()
        self.faults.configure(seed=self.seed)
        self.quota.set(None)
        self.tokens.clear()
        self.tokens.ttl = cfg.token_ttl
        self.webhook_check = cfg.webhook_check
        self.checker.allow_loopback = cfg.webhook_allow_loopback
        self.strict = cfg.strict
        self.read_lag = cfg.read_lag
        #: (client id, msisdn) -> (monotonic deadline, the record as it was before the last update)
        self.lagging: dict[tuple[str, str], tuple[float, dict[str, Any]]] = {}
        self.inventory.set_balance(None, cfg.balance, cfg.auto_reload)
        self.checker.timeout = cfg.webhook_timeout
        self.webhooks = DemoWebhooks(cfg.demo_webhook_delay)
        self.search_fragments: tuple[dict[str, bytes], dict[str, bytes]] = ({}, {})
        return {"seed": self.seed, "owned_numbers": owned, "pool": self.inventory.pool.total()}

    def settings(self) -> dict[str, Any]:
        return {
            "webhook_check": self.webhook_check,
            "webhook_allow_loopback": self.checker.allow_loopback,
            "strict": self.strict,
            "read_lag": self.read_lag,
            "token_ttl": self.tokens.ttl,
            "webhook_timeout": self.checker.timeout,
            "quota_rps": self.quota.rps,
        }
