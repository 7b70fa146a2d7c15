"""The client package resolves its names lazily: parsing a DAG that validates arguments stays cheap."""

from __future__ import annotations

import subprocess
import sys

import airflow_provider_nexmo_numbers.client as client_package


def test_every_public_name_resolves_from_its_module():
    assert set(client_package.__all__) == set(client_package._EXPORTS)
    for name in client_package.__all__:
        value = getattr(client_package, name)
        module = client_package._EXPORTS[name]
        assert getattr(sys.modules[f"{client_package.__name__}.{module}"], name) is value


def test_validation_import_leaves_the_wire_stack_unloaded():
    code = (
        "import sys; import airflow_provider_nexmo_numbers.client.validation as v; "
        "v.validate_country('nl'); "
        "print(sorted(m for m in ('requests', 'tenacity', 'pydantic', 'urllib3') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "[]"
