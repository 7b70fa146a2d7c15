"""NexmoBaseOperator and its helpers: late values, parsing, the lazy hook, cheap imports, template fields."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal

import pytest

from airflow_provider_nexmo_numbers.client.errors import NexmoValidationError
from airflow_provider_nexmo_numbers.operators.base import (
    NexmoBaseOperator,
    is_late,
    parse_bool,
    parse_int,
    parse_money,
)
from airflow_provider_nexmo_numbers.operators.buy import NexmoBuyNumberOperator
from airflow_provider_nexmo_numbers.operators.cancel import NexmoCancelNumberOperator
from airflow_provider_nexmo_numbers.operators.list_owned import NexmoListOwnedNumbersOperator
from airflow_provider_nexmo_numbers.operators.search import NexmoSearchNumbersOperator
from airflow_provider_nexmo_numbers.operators.update import NexmoUpdateNumberOperator

OPERATORS = {
    NexmoSearchNumbersOperator: {"country": "NL"},
    NexmoBuyNumberOperator: {"country": "NL", "msisdn": "31612345678"},
    NexmoUpdateNumberOperator: {"country": "NL", "msisdn": "31612345678", "mo_smpp_sys_type": "x"},
    NexmoCancelNumberOperator: {"country": "NL", "msisdn": "31612345678"},
    NexmoListOwnedNumbersOperator: {},
}
OPERATOR_MODULES = ["search", "buy", "update", "cancel", "list_owned"]


@pytest.mark.parametrize(
    ("value", "late"),
    [
        ("NL", False),
        ("{{ params.country }}", True),
        ("{% if x %}1{% endif %}", True),
        (["SMS", "{{ var.value.f }}"], True),
        (["SMS", "VOICE"], False),
        ({"a": "{{ x }}"}, True),
        (Decimal("1.5"), False),
        (None, False),
        (3, False),
        (object(), True),  # e.g. an XComArg: resolved by Airflow at run time
    ],
)
def test_is_late(value, late):
    assert is_late(value) is late


def test_parse_money_is_exact_and_strict():
    assert parse_money("m", "1.10") == Decimal("1.10")
    assert parse_money("m", 2) == Decimal(2)
    assert parse_money("m", 0.1) == Decimal("0.1")  # through str(), not the binary float
    for bad in ("-0.01", "inf", "NaN", "abc", True, ""):
        with pytest.raises(NexmoValidationError, match="m"):
            parse_money("m", bad)


def test_parse_int_and_bool():
    assert parse_int("n", "12") == 12
    assert parse_int("n", 7, maximum=7) == 7
    for bad in (0, "1.5", 1.5, True, None, "x"):
        with pytest.raises(NexmoValidationError, match="n"):
            parse_int("n", bad)
    with pytest.raises(NexmoValidationError, match="between 1 and 5"):
        parse_int("n", 6, maximum=5)
    assert parse_bool("d", "True") is True
    assert parse_bool("d", "false") is False
    with pytest.raises(NexmoValidationError, match="d"):
        parse_bool("d", "maybe")


def test_hook_is_lazy_and_cached(monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_NO_SUCH_CONN", raising=False)
    op = NexmoCancelNumberOperator(
        task_id="c", nexmo_conn_id="no_such_conn", country="NL", msisdn="31612345678"
    )
    assert "hook" not in op.__dict__  # building the operator touched no connection

    from airflow_provider_nexmo_numbers.hooks.nexmo_numbers import NexmoNumbersHook

    assert isinstance(op.hook, NexmoNumbersHook)
    assert op.hook is op.hook
    assert op.hook.nexmo_conn_id == "no_such_conn"


@pytest.mark.parametrize("cls", list(OPERATORS))
def test_template_fields_are_attributes(cls):
    op = cls(task_id="t", **OPERATORS[cls])
    assert "nexmo_conn_id" in cls.template_fields
    for field in cls.template_fields:
        assert hasattr(op, field), field
    assert issubclass(cls, NexmoBaseOperator)


@pytest.mark.parametrize("cls", list(OPERATORS))
def test_every_value_can_be_a_template(cls):
    kwargs = {field: "{{ params.x }}" for field in cls.template_fields}
    if cls is NexmoBuyNumberOperator:  # msisdn and criteria are exclusive
        for field in ("type", "features", "pattern", "search_pattern"):
            kwargs.pop(field)
    cls(task_id="t", **kwargs)  # nothing validated before rendering


def test_partial_accepts_templates_and_mapping_arguments():
    mapped = NexmoBuyNumberOperator.partial(
        task_id="buy", country="{{ params.country }}", max_monthly_cost="2"
    ).expand(msisdn=["31612345678", "31612345679"])
    assert mapped.partial_kwargs["country"] == "{{ params.country }}"


_SNAPSHOT = "\nprint(json.dumps(sorted(sys.modules)))\n"


def test_operator_modules_import_nothing_heavy():
    imports = "\n".join(f"import airflow_provider_nexmo_numbers.operators.{m}" for m in OPERATOR_MODULES)
    code = (
        "import json, sys\nfrom airflow.providers.common.compat.sdk import AirflowFailException, BaseOperator"
        + _SNAPSHOT
        + imports
        + _SNAPSHOT
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    ).stdout.strip()
    baseline, loaded = (set(json.loads(line)) for line in out.splitlines()[-2:])

    extra = loaded - baseline
    ours = {m for m in extra if m.startswith("airflow_provider_nexmo_numbers")}
    assert ours <= {"airflow_provider_nexmo_numbers"} | {
        f"airflow_provider_nexmo_numbers.operators{suffix}"
        for suffix in ["", ".base", *(f".{m}" for m in OPERATOR_MODULES)]
    }
    heavy = {"pyarrow", "fastapi", "uvicorn", "requests", "tenacity", "httpx"}
    assert not {m.split(".")[0] for m in extra} & heavy, sorted(extra)
    assert len(extra - ours) <= 5, sorted(extra - ours)
