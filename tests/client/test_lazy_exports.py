"""The client package resolves its names lazily: parsing a DAG that validates arguments stays cheap."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import airflow_provider_nexmo_numbers.client as client_package


def test_every_public_name_resolves_from_its_module():
    assert set(client_package.__all__) == set(client_package._EXPORTS)
    for name in client_package.__all__:
        value = getattr(client_package, name)
        module = client_package._EXPORTS[name]
        assert getattr(sys.modules[f"{client_package.__name__}.{module}"], name) is value


@pytest.mark.parametrize("module", ["client", "errors", "models"])
def test_star_imported_modules_export_exactly_their_mapped_names(module):
    """The package's TYPE_CHECKING block star-imports these: their `__all__` is what static tools see."""
    mapped = {name for name, where in client_package._EXPORTS.items() if where == module}
    assert set(importlib.import_module(f"{client_package.__name__}.{module}").__all__) == mapped


def test_validation_import_leaves_the_wire_stack_unloaded():
    code = (
        "import sys; import airflow_provider_nexmo_numbers.client.validation as v; "
        "v.validate_country('nl'); "
        "print(sorted(m for m in ('requests', 'tenacity', 'pydantic', 'urllib3') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "[]"
