"""Provider metadata read by Airflow's ProvidersManager through the `apache_airflow_provider` entry point.

Kept import-free and static: Airflow calls this in every component at start-up, and the connection form
fields are declared here (`conn-fields`, `ui-field-behaviour`, Airflow >= 3.2) so the UI can render the form
without importing the hook. The defaults shown as placeholders must match the client's defaults (a test
checks it).
"""

from __future__ import annotations

from typing import Any

_INTEGRATION = "Nexmo Numbers"
_PACKAGE = "airflow_provider_nexmo_numbers"


def get_provider_info() -> dict[str, Any]:
    """The provider-info dict, valid against Airflow's `provider_info.schema.json`."""
    return {
        "package-name": "airflow-provider-nexmo-numbers",
        "name": "Nexmo Numbers (KPN API Store)",
        "description": (
            "Search, buy, configure, release and export Nexmo (Vonage) virtual phone numbers through the "
            "KPN API Store Phone Numbers API, with a local sandbox for tests and demos."
        ),
        "versions": ["0.1.0"],
        "integrations": [
            {
                "integration-name": _INTEGRATION,
                "external-doc-url": "https://developer.kpn.com/",
                "tags": ["service"],
            }
        ],
        "hooks": [{"integration-name": _INTEGRATION, "python-modules": [f"{_PACKAGE}.hooks.nexmo_numbers"]}],
        "operators": [
            {
                "integration-name": _INTEGRATION,
                "python-modules": [
                    f"{_PACKAGE}.operators.search",
                    f"{_PACKAGE}.operators.buy",
                    f"{_PACKAGE}.operators.update",
                    f"{_PACKAGE}.operators.cancel",
                    f"{_PACKAGE}.operators.list_owned",
                    f"{_PACKAGE}.operators.ensure",
                    f"{_PACKAGE}.operators.release",
                ],
            }
        ],
        "sensors": [
            {"integration-name": _INTEGRATION, "python-modules": [f"{_PACKAGE}.sensors.webhook_ready"]}
        ],
        "triggers": [
            {"integration-name": _INTEGRATION, "python-modules": [f"{_PACKAGE}.triggers.webhook_ready"]}
        ],
        "transfers": [
            {
                "source-integration-name": _INTEGRATION,
                "target-integration-name": "Common SQL",
                "python-module": f"{_PACKAGE}.transfers.to_sql",
            },
            {
                "source-integration-name": _INTEGRATION,
                "target-integration-name": "Common IO",
                "python-module": f"{_PACKAGE}.transfers.to_file",
            },
        ],
        "connection-types": [
            {
                "connection-type": "nexmo_numbers",
                "hook-class-name": f"{_PACKAGE}.hooks.nexmo_numbers.NexmoNumbersHook",
                "hook-name": "Nexmo Numbers (KPN)",
                "ui-field-behaviour": {
                    "hidden-fields": ["schema", "port"],
                    "relabeling": {"host": "Base URL", "login": "Client ID", "password": "Client secret"},
                    "placeholders": {
                        "host": "https://api-prd.kpn.com/communication/nexmo/phone-numbers",
                        "login": "KPN API Store client id",
                        "password": "KPN API Store client secret",
                        "token_url": "https://api-prd.kpn.com/oauth/client_credential/accesstoken",
                        "timeout": "5,30",
                        "max_retries": "5",
                        "max_retry_time": "120.0",
                        "backoff_base": "0.5",
                        "backoff_max": "30.0",
                        "rate_limit": "",
                    },
                },
                "conn-fields": {
                    "token_url": {
                        "label": "Token URL",
                        "description": (
                            "OAuth2 client-credentials token endpoint. Default: the KPN API Store "
                            "(https://api-prd.kpn.com/oauth/client_credential/accesstoken), or the same path "
                            "on the Base URL's host when a Base URL is set. https required except for "
                            "loopback hosts."
                        ),
                        "schema": {"type": ["string", "null"]},
                    },
                    "timeout": {
                        "label": "Timeout (seconds)",
                        "description": (
                            "Connect and read timeout of every request: one number for both, or "
                            "'connect,read' (default 5,30)."
                        ),
                        "schema": {"type": ["string", "number", "null"]},
                    },
                    "max_retries": {
                        "label": "Max retries",
                        "description": (
                            "Retries after the first attempt for 429, 5xx and connection errors (default 5; "
                            "purchases are never retried blindly)."
                        ),
                        "schema": {"type": ["integer", "null"], "minimum": 0, "default": 5},
                    },
                    "max_retry_time": {
                        "label": "Max retry time (seconds)",
                        "description": (
                            "Time budget of one call, its retries and waits included: a retry whose wait "
                            "would cross it is not made (default 120.0)."
                        ),
                        "schema": {"type": ["number", "null"], "exclusiveMinimum": 0, "default": 120.0},
                    },
                    "backoff_base": {
                        "label": "Backoff base (seconds)",
                        "description": (
                            "Wait before the first retry when the server sends no Retry-After; doubled for "
                            "each further retry up to Backoff max, with random jitter (default 0.5)."
                        ),
                        "schema": {"type": ["number", "null"], "minimum": 0, "default": 0.5},
                    },
                    "backoff_max": {
                        "label": "Backoff max (seconds)",
                        "description": "Longest wait between two retries (default 30.0).",
                        "schema": {"type": ["number", "null"], "minimum": 0, "default": 30.0},
                    },
                    "rate_limit": {
                        "label": "Rate limit (requests/second)",
                        "description": (
                            "Empty (default): pace by the quota the API states in its quota-* headers, "
                            "shared by every worker with the same client id, never a 429. A number caps each "
                            "worker process at that many requests/second on top; 0 disables client-side "
                            "pacing."
                        ),
                        "schema": {"type": ["number", "null"], "minimum": 0, "default": None},
                    },
                    "verify_ssl": {
                        "label": "Verify SSL",
                        "description": "Verify the server's TLS certificate (default true).",
                        "schema": {"type": ["boolean", "null"], "default": True},
                    },
                },
            }
        ],
    }
