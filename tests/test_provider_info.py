"""Provider registration: schema-valid metadata, discovered by Airflow, consistent with the hook."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import airflow
import jsonschema
import pytest

from airflow_provider_nexmo_numbers import client as client_package
from airflow_provider_nexmo_numbers.get_provider_info import get_provider_info
from airflow_provider_nexmo_numbers.hooks.nexmo_numbers import KNOWN_EXTRAS, NexmoNumbersHook

SCHEMA = Path(airflow.__file__).parent / "provider_info.schema.json"


@pytest.fixture(scope="module")
def info() -> dict:
    return get_provider_info()


def test_valid_against_airflows_schema(info):
    jsonschema.validate(info, json.loads(SCHEMA.read_text()))
    assert info["package-name"] == "airflow-provider-nexmo-numbers"


def test_connection_type_matches_the_hook(info):
    (entry,) = info["connection-types"]
    assert entry["connection-type"] == NexmoNumbersHook.conn_type == "nexmo_numbers"
    assert entry["hook-name"] == NexmoNumbersHook.hook_name
    module, _, name = entry["hook-class-name"].rpartition(".")
    assert getattr(importlib.import_module(module), name) is NexmoNumbersHook
    assert NexmoNumbersHook.default_conn_name == "nexmo_numbers_default"
    assert NexmoNumbersHook.conn_name_attr == "nexmo_conn_id"


def test_every_extra_the_hook_reads_is_declared(info):
    (entry,) = info["connection-types"]
    assert set(entry["conn-fields"]) == set(KNOWN_EXTRAS)
    for name, field in entry["conn-fields"].items():
        assert field["label"], name
        assert field["description"], name
        jsonschema.Draft7Validator.check_schema(field["schema"])
        assert "null" in field["schema"]["type"], name  # an extra may be left unset
    behaviour = entry["ui-field-behaviour"]
    assert behaviour["relabeling"] == {"host": "Base URL", "login": "Client ID", "password": "Client secret"}
    # Every extra but the boolean shows its default as a placeholder.
    assert set(behaviour["placeholders"]) == {"host", "login", "password", *KNOWN_EXTRAS} - {"verify_ssl"}


def test_placeholders_show_the_clients_defaults(info):
    placeholders = info["connection-types"][0]["ui-field-behaviour"]["placeholders"]
    assert placeholders["host"] == client_package.DEFAULT_BASE_URL
    assert placeholders["token_url"] == client_package.DEFAULT_TOKEN_URL
    assert placeholders["timeout"] == ",".join(f"{t:g}" for t in client_package.DEFAULT_TIMEOUT)
    assert placeholders["max_retries"] == str(client_package.DEFAULT_MAX_RETRIES)
    assert client_package.DEFAULT_RATE_LIMIT is None  # no fixed cap: pace by the API's quota
    assert placeholders["rate_limit"] == ""
    assert placeholders["max_retry_time"] == str(client_package.DEFAULT_MAX_RETRY_TIME)
    assert placeholders["backoff_base"] == str(client_package.DEFAULT_BACKOFF_BASE)
    assert placeholders["backoff_max"] == str(client_package.DEFAULT_BACKOFF_MAX)


def test_form_defaults_are_the_clients_defaults(info):
    """The UI pre-fills `schema.default`: it must be what the client does when the extra is unset."""
    fields = info["connection-types"][0]["conn-fields"]
    defaults = {name: f["schema"]["default"] for name, f in fields.items() if "default" in f["schema"]}
    assert defaults == {
        "max_retries": client_package.DEFAULT_MAX_RETRIES,
        "max_retry_time": client_package.DEFAULT_MAX_RETRY_TIME,
        "backoff_base": client_package.DEFAULT_BACKOFF_BASE,
        "backoff_max": client_package.DEFAULT_BACKOFF_MAX,
        "rate_limit": client_package.DEFAULT_RATE_LIMIT,
        "verify_ssl": True,
    }


def test_listed_modules_exist_or_are_being_built(info):
    """Every module listed for Airflow; the hook module must import (the rest belong to teammates' issues)."""
    modules = [m for group in ("hooks", "operators", "sensors", "triggers") for e in info[group]
               for m in e["python-modules"]] + [t["python-module"] for t in info["transfers"]]  # fmt: skip
    assert "airflow_provider_nexmo_numbers.hooks.nexmo_numbers" in modules
    assert len(modules) == len(set(modules)) == 12
    for module in modules:
        assert importlib.util.find_spec(module) is not None, module


_DISCOVERY_SCRIPT = """
import contextlib, io, json, logging, warnings
warnings.simplefilter("error")
# Airflow's own modules warning about each other (Airflow 3.1's standard provider imports a deprecated path
# through common.compat) are not this provider's; a warning attributed to this provider's code still fails.
warnings.filterwarnings("ignore", module=r"airflow\\.")
records = []
class Keep(logging.Handler):
    def emit(self, record):
        if record.levelno >= logging.WARNING:
            records.append(record.getMessage())
logging.getLogger().addHandler(Keep())
from airflow.providers_manager import ProvidersManager
pm = ProvidersManager()
pm.initialize_providers_hooks()
provider = pm.providers["airflow-provider-nexmo-numbers"]
widgets = sorted(k for k in pm.connection_form_widgets if k.startswith("extra__nexmo_numbers__"))
secret = [k for k, w in pm.connection_form_widgets.items() if k.startswith("extra__nexmo") and w.is_sensitive]
hook = pm._hooks_lazy_dict["nexmo_numbers"]
from airflow.cli.cli_parser import get_parser
args = get_parser().parse_args(["providers", "list", "--output", "json"])
out = io.StringIO()
with contextlib.redirect_stdout(out):
    args.func(args)
listed = json.loads(out.getvalue()[out.getvalue().index("["):])
print(json.dumps({
    "version": provider.version,
    "widgets": widgets,
    "sensitive": secret,
    "behaviour": pm.field_behaviours["nexmo_numbers"],
    "hook": [hook.hook_class_name, hook.connection_id_attribute_name, hook.hook_name,
             hook.connection_testable],
    "listed": [p for p in listed if p["package_name"] == "airflow-provider-nexmo-numbers"],
    "warnings": [r for r in records if "nexmo" in r.lower() or "Inconsistency" in r],
}))
"""


def test_discovered_by_airflow_without_warnings():
    """A fresh process, as Airflow itself would run: `airflow providers list` shows the provider and the
    ProvidersManager exposes the connection type, its form fields and behaviour, with no warning."""
    result = subprocess.run(
        [sys.executable, "-c", _DISCOVERY_SCRIPT], capture_output=True, text=True, timeout=240, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    data = json.loads(result.stdout.strip().splitlines()[-1])
    assert data["version"] == "0.1.0"
    assert [p["version"] for p in data["listed"]] == ["0.1.0"]
    assert data["widgets"] == [f"extra__nexmo_numbers__{name}" for name in sorted(KNOWN_EXTRAS)]
    assert data["sensitive"] == []
    assert data["behaviour"]["hidden_fields"] == ["schema", "port"]
    assert data["behaviour"]["placeholders"]["extra__nexmo_numbers__token_url"].startswith("https://")
    assert data["hook"] == [
        "airflow_provider_nexmo_numbers.hooks.nexmo_numbers.NexmoNumbersHook",
        "nexmo_conn_id",
        "Nexmo Numbers (KPN)",
        True,
    ]
    assert data["warnings"] == []
    nexmo_stderr = [line for line in result.stderr.splitlines() if "nexmo" in line.lower()]
    assert not [line for line in nexmo_stderr if "warn" in line.lower()], nexmo_stderr
