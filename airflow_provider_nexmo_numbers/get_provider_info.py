"""Provider metadata read by Airflow's ProvidersManager through the `apache_airflow_provider` entry point.

Cheap and free of I/O: Airflow calls this in every component at start-up. The connection form fields
(`conn-fields`, `ui-field-behaviour`, Airflow >= 3.2) come from the one definition of the connection's
settings (`hooks.connection`, pydantic only, which Airflow has loaded already), so the UI renders the form
without importing the hook or the client, and form, parser and defaults cannot drift apart.
"""

from __future__ import annotations

from typing import Any

_INTEGRATION = "Nexmo Numbers"
_PACKAGE = "airflow_provider_nexmo_numbers"


def get_provider_info() -> dict[str, Any]:
    """The provider-info dict, valid against Airflow's `provider_info.schema.json`."""
    from airflow_provider_nexmo_numbers.hooks.connection import provider_info_connection_form

    return {
        "package-name": "airflow-provider-nexmo-numbers",
        "name": "Nexmo Numbers (KPN API Store or Vonage)",
        "description": (
            "Search, buy, configure, release and export Nexmo (Vonage) virtual phone numbers through the "
            "KPN API Store Phone Numbers API or Vonage directly, with a local sandbox for tests and demos."
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
                    f"{_PACKAGE}.operators.drift",
                    f"{_PACKAGE}.operators.ledger_report",
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
                "hook-name": "Nexmo Numbers (KPN / Vonage)",
                # ui-field-behaviour and conn-fields, from the one definition of the settings
                **provider_info_connection_form(),
            }
        ],
    }
