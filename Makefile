# 听风 tingfeng — two commands on a fresh machine with Python ≥ 3.11 and make:
#   make demo   set everything up, run the demo, serve the dashboard
#   make test   set everything up (incl. PostgreSQL and Chromium via apt when missing), run every test
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install demo test system-deps bench lock clean

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "tingfeng needs Python >= 3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/tingfeng demo

system-deps:
	@bash .ci/system-deps

test: install system-deps
	@TINGFENG_TEST_PG=$$(bash .ci/start-postgres) && export TINGFENG_TEST_PG && \
	  echo "PostgreSQL for tests: $$TINGFENG_TEST_PG" && \
	  $(BIN)/python -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

bench: install
	$(BIN)/python bench/sentiment.py
	$(BIN)/python bench/alerts.py
	$(BIN)/python bench/collectors.py
	$(BIN)/python bench/dashboard.py
	$(BIN)/python bench/scale.py

# Re-resolve the pinned constraints after changing dependencies in pyproject.toml.
lock:
	rm -rf .lockenv && $(PYTHON) -m venv .lockenv && .lockenv/bin/pip install -q --upgrade pip && \
	  .lockenv/bin/pip install -q -e '.[dev]' && \
	  .lockenv/bin/pip freeze --exclude-editable | grep -v '^-e ' > constraints.txt && rm -rf .lockenv

clean:
	rm -rf $(VENV) var build *.egg-info
