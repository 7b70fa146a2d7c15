"""Configuration of the sandbox: one plain dataclass, serialisable to JSON for the subprocess runner and CLI.

Kept free of FastAPI/uvicorn imports so that building a config (in a fixture, a DAG test, the CLI's argument
parser) costs nothing.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

DEFAULT_CLIENT_ID = "sandbox-client"
DEFAULT_CLIENT_SECRET = "sandbox-secret"

KPN_PREFIX = "/communication/nexmo/phone-numbers"
TOKEN_PATH = "/oauth/client_credential/accesstoken"
ADMIN_PREFIX = "/_sandbox"

#: Countries the generated pool covers. FR is the address-required one by default.
POOL_COUNTRIES = ("GB", "NL", "US", "DE", "FR")


@dataclass(frozen=True)
class FaultSettings:
    """The probabilistic fault knobs and their defaults, defined once: the injector holds one, the admin API
    (`set_faults`) takes these names, and `SandboxConfig.fault_settings()` derives them from the start
    config."""

    error_rate: float = 0.0
    error_statuses: tuple[int, ...] = (500, 502, 503, 429)
    #: `Retry-After` (seconds, fractions allowed) of the 429s that `error_rate` draws; small values keep
    #: chaos tests fast while the client still honours the header as in production.
    retry_after: float = 1.0
    latency_ms: float = 0.0
    hang_rate: float = 0.0
    hang_seconds: float = 30.0
    drop_after_commit_rate: float = 0.0
    revoke_token_rate: float = 0.0
    seed: int | None = 1

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "error_statuses": list(self.error_statuses)}


FAULT_SETTINGS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(FaultSettings))
#: The knobs that are probabilities per API request.
FAULT_RATES = ("error_rate", "hang_rate", "drop_after_commit_rate", "revoke_token_rate")


@dataclass
class SandboxConfig:
    """Everything the sandbox can be told at start; most of it can change at runtime via the admin API.

    Fault rates are probabilities per API request (the five operations), drawn from a generator seeded with
    `fault_seed` (falls back to `seed`), so a faulty run repeats exactly for the same request sequence.
    """

    host: str = "127.0.0.1"
    port: int = 0
    seed: int = 7
    clients: dict[str, str] = field(default_factory=lambda: {DEFAULT_CLIENT_ID: DEFAULT_CLIENT_SECRET})
    #: Owned numbers the first client's account starts with (configured, bulk range; cheap even for 100,000).
    owned_numbers: int = 0
    owned_country: str = "GB"
    #: Available numbers generated per (country, type) in the pool.
    pool_per_type: int = 60
    address_required_countries: tuple[str, ...] = ("FR",)
    token_ttl: int = 3599
    #: Requests per second per client id at the gateway; None = no quota.
    quota_rps: float | None = None
    webhook_check: bool = True
    webhook_timeout: float = 2.0
    #: The real check runs from Vonage's network, which cannot reach loopback or private addresses: the
    #: sandbox fails a webhook on such a host unless this is True (tests and the demo serve webhooks on
    #: 127.0.0.1 and turn it on explicitly).
    webhook_allow_loopback: bool = False
    #: Opt-in strictness beyond any evidence (features only in the canonical order, lower-case
    #: `true`/`false`, upper-case country): 400 like the API's other parameter errors.
    strict: bool = False
    #: Seconds during which `GET /account/numbers` still shows a number as it was before an update.
    read_lag: float = 0.0
    #: Account balance in EUR (`GET /account/get-balance`). With `auto_reload` (the default) buying never
    #: lowers it; without, a purchase costs its monthly price plus set-up price and a purchase the balance
    #: cannot pay is the API's 420 "method failed".
    balance: float = 100.0
    auto_reload: bool = True
    #: Delay before the built-in "demo" webhook (GET /_sandbox/webhooks/demo) starts answering 200.
    demo_webhook_delay: float = 5.0
    #: KPN documents "by default it takes landline" for search without `type`; Vonage direct has no default.
    kpn_default_search_type: str | None = "landline"
    vonage_direct: bool = True
    # faults
    error_rate: float = 0.0
    error_statuses: tuple[int, ...] = (500, 502, 503, 429)
    retry_after: float = 1.0
    latency_ms: float = 0.0
    hang_rate: float = 0.0
    hang_seconds: float = 30.0
    drop_after_commit_rate: float = 0.0
    revoke_token_rate: float = 0.0
    fault_seed: int | None = None
    # server
    log_level: str = "warning"
    #: Serve https (Vonage's SDK only speaks https). Without `ssl_certfile`, a self-signed certificate for
    #: 127.0.0.1/localhost is generated at start (see tls.py) and removed at stop.
    tls: bool = False
    #: Your own certificate (PEM; may also hold the key) and key; setting the certificate implies `tls`.
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None

    def __post_init__(self) -> None:
        if not self.clients:
            raise ValueError("SandboxConfig.clients needs at least one client id")
        self.address_required_countries = tuple(c.upper() for c in self.address_required_countries)
        self.error_statuses = tuple(int(s) for s in self.error_statuses)
        for name in FAULT_RATES:
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"SandboxConfig.{name} must be between 0 and 1, got {value!r}")
        if self.read_lag < 0:
            raise ValueError("SandboxConfig.read_lag must be >= 0")
        if self.owned_numbers < 0:
            raise ValueError("SandboxConfig.owned_numbers must be >= 0")
        if self.quota_rps is not None and self.quota_rps <= 0:
            raise ValueError("SandboxConfig.quota_rps must be > 0 or None")
        if self.ssl_keyfile and not self.ssl_certfile:
            raise ValueError("SandboxConfig.ssl_keyfile needs ssl_certfile")
        if self.ssl_certfile:
            self.tls = True

    @property
    def scheme(self) -> str:
        return "https" if self.tls else "http"

    @property
    def first_client(self) -> tuple[str, str]:
        client_id = next(iter(self.clients))
        return client_id, self.clients[client_id]

    def fault_settings(self) -> dict[str, Any]:
        """The fault knobs as the admin `set_faults` call takes them (the seed: `fault_seed`, else `seed`)."""
        knobs = {name: getattr(self, name) for name in FAULT_SETTINGS if name != "seed"}
        seed = self.seed if self.fault_seed is None else self.fault_seed
        return FaultSettings(**knobs, seed=seed).to_dict()

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["address_required_countries"] = list(self.address_required_countries)
        data["error_statuses"] = list(self.error_statuses)
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SandboxConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown SandboxConfig field(s): {', '.join(unknown)}")
        values = dict(data)
        for name in ("address_required_countries", "error_statuses"):
            if name in values:
                values[name] = tuple(values[name])
        return cls(**values)

    @classmethod
    def from_json(cls, text: str) -> SandboxConfig:
        return cls.from_dict(json.loads(text))
