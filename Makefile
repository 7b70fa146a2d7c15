# Every target installs what it needs from the repo's own files: a fresh clone needs only python3 (3.11+).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
STAMP := $(VENV)/.installed
CONSTRAINTS := requirements/constraints.txt

# The oldest supported end (Airflow 3.1 on Python 3.11), in a venv of its own: `make test-oldest`.
PYTHON_OLDEST ?= python3.11
OLDEST_VENV := .venv-oldest
OLDEST_PY := $(OLDEST_VENV)/bin/python
OLDEST_STAMP := $(OLDEST_VENV)/.installed
OLDEST_CONSTRAINTS := requirements/constraints-airflow-3.1.txt

UV_VERSION := 0.13.9

.PHONY: install install-oldest test test-oldest lint format bench demo sandbox constraints clean

# $(call make_venv,<venv>,<python>,<constraints>): the venv with uv, and the project editable with [dev].
define make_venv
	test -x $(1)/bin/python || $(2) -m venv $(1)
	$(1)/bin/pip install -q "uv==$(UV_VERSION)"
	$(1)/bin/uv pip install --python $(1)/bin/python -q -c $(3) -e ".[dev]"
	touch $(1)/.installed
endef

# pytest exits 5 when it collects no test; that is not a failure of the suite.
define run_pytest
	$(1) -m pytest; rc=$$?; if [ $$rc -eq 5 ]; then echo "pytest: no tests collected"; rc=0; fi; exit $$rc
endef

$(STAMP): pyproject.toml $(CONSTRAINTS)
	$(call make_venv,$(VENV),$(PYTHON),$(CONSTRAINTS))

$(OLDEST_STAMP): pyproject.toml $(OLDEST_CONSTRAINTS)
	$(call make_venv,$(OLDEST_VENV),$(PYTHON_OLDEST),$(OLDEST_CONSTRAINTS))

install: $(STAMP)

install-oldest: $(OLDEST_STAMP)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

test: lint
	$(call run_pytest,$(PY))

# The same suite at the lowest supported Airflow; lint ran in `make test`.
test-oldest: $(OLDEST_STAMP)
	$(call run_pytest,$(OLDEST_PY))

# Re-resolve both constraints files after a change to pyproject.toml. The files' own pins are kept where
# they still fit (uv prefers the versions already in the output file); new dependencies get pinned, in the
# oldest file at the newest file's version where that fits Airflow 3.1.
constraints: $(STAMP)
	$(UV) pip compile -q --no-annotate --no-header --python-version 3.11 pyproject.toml --extra dev \
		-o $(CONSTRAINTS)
	$(PY) requirements/seed_oldest.py $(CONSTRAINTS) $(OLDEST_CONSTRAINTS)
	$(UV) pip compile -q --no-annotate --no-header --python-version 3.11 pyproject.toml --extra dev \
		-o $(OLDEST_CONSTRAINTS)

bench: $(STAMP)
	$(PY) -m benchmarks.run

demo: $(STAMP)
	$(PY) scripts/demo.py

sandbox: $(STAMP)
	$(VENV)/bin/nexmo-numbers-sandbox --port 0

clean:
	rm -rf $(VENV) $(OLDEST_VENV) .pytest_cache .ruff_cache build *.egg-info
