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
    # token_url is the old name of oauth_url, still read, not offered in the form (Airflow masks it)
    assert set(entry["conn-fields"]) == set(KNOWN_EXTRAS) - {"token_url"}
    for name, field in entry["conn-fields"].items():
        assert field["label"], name
        assert field["description"], name
        jsonschema.Draft7Validator.check_schema(field["schema"])
        assert "null" in field["schema"]["type"], name  # an extra may be left unset
    behaviour = entry["ui-field-behaviour"]
    assert behaviour["relabeling"]["login"] == "Client ID (KPN) / API key (Vonage)"
    assert behaviour["relabeling"]["password"] == "Client secret (KPN) / API secret (Vonage)"
    assert set(behaviour["placeholders"]) == {"host", "login", "password", *entry["conn-fields"]}


def test_no_form_field_pre_fills_a_default_or_is_multi_line(info):
    """Airflow's form pre-fills `schema.default` and saves it into every connection's extras, and a field
    with several JSON types is a multi-line JSON box (issue 14): one type plus null, no default."""
    fields = info["connection-types"][0]["conn-fields"]
    for name, field in fields.items():
        assert "default" not in field["schema"], name
        assert len(field["schema"]["type"]) == 2, name
    assert fields["timeout"]["schema"]["type"] == ["string", "null"]
    assert fields["api"]["schema"]["enum"] == ["kpn", "vonage"]


def test_no_extra_name_is_masked_by_airflow(info):
    """Airflow masks extras whose names hold a sensitive word: the token endpoint would show as ***."""
    from airflow.providers.common.compat.sdk import redact

    for name in info["connection-types"][0]["conn-fields"]:
        assert redact("https://example.com/x", name) == "https://example.com/x", name


def test_placeholders_show_the_clients_defaults(info):
    from airflow_provider_nexmo_numbers.client.ratelimit import DEFAULT_RATE_LIMIT

    placeholders = info["connection-types"][0]["ui-field-behaviour"]["placeholders"]
    assert client_package.DEFAULT_BASE_URL in placeholders["host"]
    assert "https://rest.nexmo.com" in placeholders["host"]
    assert placeholders["oauth_url"] == client_package.DEFAULT_TOKEN_URL
    assert placeholders["timeout"] == ",".join(f"{t:g}" for t in client_package.DEFAULT_TIMEOUT)
    assert placeholders["max_retries"] == str(client_package.DEFAULT_MAX_RETRIES)
    assert DEFAULT_RATE_LIMIT is None  # no fixed cap: pace by the API's quota
    assert placeholders["rate_limit"] == ""
    assert placeholders["max_retry_time"] == f"{client_package.DEFAULT_MAX_RETRY_TIME:g}"
    assert placeholders["backoff_base"] == f"{client_package.DEFAULT_BACKOFF_BASE:g}"
    assert placeholders["backoff_max"] == f"{client_package.DEFAULT_BACKOFF_MAX:g}"
    fields = info["connection-types"][0]["conn-fields"]
    # 3.3's form shows no placeholder for extras; string fields offer the default as a suggestion
    assert fields["timeout"]["schema"]["examples"] == [placeholders["timeout"]]
    assert "Default: 5,30." in fields["timeout"]["description"]


def test_listed_modules_exist_or_are_being_built(info):
    """Every module listed for Airflow; the hook module must import (the rest belong to teammates' issues)."""
    modules = [m for group in ("hooks", "operators", "sensors", "triggers") for e in info[group]
               for m in e["python-modules"]] + [t["python-module"] for t in info["transfers"]]  # fmt: skip
    assert "airflow_provider_nexmo_numbers.hooks.nexmo_numbers" in modules
    assert len(modules) == len(set(modules)) == 14  # + operators.drift and operators.ledger_report (ledger)
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
    declared = sorted(set(KNOWN_EXTRAS) - {"token_url"})
    assert data["widgets"] == [f"extra__nexmo_numbers__{name}" for name in declared]
    assert data["sensitive"] == []
    assert data["behaviour"]["hidden_fields"] == ["schema", "port"]
    assert data["behaviour"]["placeholders"]["extra__nexmo_numbers__oauth_url"].startswith("https://")
    assert data["hook"] == [
        "airflow_provider_nexmo_numbers.hooks.nexmo_numbers.NexmoNumbersHook",
        "nexmo_conn_id",
        "Nexmo Numbers (KPN / Vonage)",
        True,
    ]
    assert data["warnings"] == []
    nexmo_stderr = [line for line in result.stderr.splitlines() if "nexmo" in line.lower()]
    assert not [line for line in nexmo_stderr if "warn" in line.lower()], nexmo_stderr


def test_airflow_3_1_fallback_gives_the_same_form(info):
    """Airflow 3.1 reads no declarative conn-fields: it calls get_connection_form_widgets() and
    get_ui_field_behaviour() with wtforms replaced by its HookMetaService mocks, which turn each field into
    a Param. Replayed here with the same mocks (3.3 still ships them): same fields, labels, types, enum,
    and no defaults."""
    from unittest import mock

    from airflow.api_fastapi.core_api.services.ui.connections import HookMetaService as H

    modules = [
        "wtforms",
        "wtforms.validators",
        "flask_babel",
        "flask_appbuilder",
        "flask_appbuilder.fieldwidgets",
    ]
    with mock.patch.dict(sys.modules, {name: mock.MagicMock() for name in modules}):
        sys.modules["wtforms"].StringField = H.MockStringField
        sys.modules["wtforms"].IntegerField = H.MockIntegerField
        sys.modules["wtforms"].BooleanField = H.MockBooleanField
        sys.modules["wtforms.validators"].Optional = H.MockOptional
        sys.modules["wtforms.validators"].any_of = H.MockEnum
        sys.modules["flask_babel"].lazy_gettext = str
        widgets = NexmoNumbersHook.get_connection_form_widgets()
    declared = info["connection-types"][0]["conn-fields"]
    assert set(widgets) == set(declared)
    for name, widget in widgets.items():
        param = widget.param.dump()
        assert param["value"] is None, name  # nothing pre-filled, nothing saved unless the user sets it
        assert param["schema"]["title"] == declared[name]["label"]
        assert param["schema"]["type"][0] == declared[name]["schema"]["type"][0] or name in (
            "max_retry_time",
            "backoff_base",
            "backoff_max",
            "rate_limit",  # numbers as text in 3.1
        )
    assert widgets["api"].param.dump()["schema"]["enum"] == ["kpn", "vonage"]
    behaviour = NexmoNumbersHook.get_ui_field_behaviour()
    assert behaviour["placeholders"] == info["connection-types"][0]["ui-field-behaviour"]["placeholders"]
