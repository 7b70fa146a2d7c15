# Every target installs what it needs from the repo's own files: a fresh clone needs only python3.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
STAMP := $(VENV)/.installed

.PHONY: install test lint format bench demo sandbox clean

$(STAMP): pyproject.toml requirements/constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q "uv==0.13.9"
	$(UV) pip install --python $(PY) -q -c requirements/constraints.txt -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# pytest exits 5 when it collects no test; that is not a failure of the suite.
test: lint
	$(PY) -m pytest; rc=$$?; if [ $$rc -eq 5 ]; then echo "pytest: no tests collected"; rc=0; fi; exit $$rc

bench: $(STAMP)
	$(PY) -m benchmarks.run

demo: $(STAMP)
	$(PY) scripts/demo.py

sandbox: $(STAMP)
	$(VENV)/bin/nexmo-numbers-sandbox --port 0

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build *.egg-info
