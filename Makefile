# The two commands: `make run` and `make test`. Both bootstrap .venv themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
CONFIG ?= config.example.toml
CB := $(BIN)/calbridge --config $(CONFIG)
# The local PostgreSQL the store and race tests also run against (.ci/run sets it too).
export CALBRIDGE_TEST_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: run test lint typecheck unit bench soak postgres clean bytecode

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# An installed calbridge has its modules' bytecode written by pip; the editable install
# has none, and where PYTHONDONTWRITEBYTECODE is set Python never writes it, so every
# command would compile each module it imports (about 14 % of `client list`'s instructions).
# compileall skips what is up to date; a module edited later is compiled in memory.
bytecode: $(STAMP)
	@$(BIN)/python -m compileall -q src

# The book working on the example configuration, then the daemon (Ctrl-C stops it):
# http://127.0.0.1:8470/healthz, /metrics and /status while it runs.
run: bytecode
	$(CB) check-config
	$(CB) client show ana >/dev/null 2>&1 || $(CB) client add --name "Ana Lopez" --email ana@example.org --program standard --id ana
	$(CB) session plan --coach maia --client ana --note "Planned by make run"
	$(CB) agenda --coach maia --all
	$(CB) run --once
	@echo "The coach's calendar folder (vdir; khal and vdirsyncer read it):"
	@ls -1 calendars/maia
	@echo "The mail folder: the invitation, as any mail client opens it (.eml):"
	@ls -1 mail
	$(CB) run

postgres:
	@pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null || \
	  pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start 2>/dev/null || \
	  echo "note: no local PostgreSQL started; PostgreSQL tests need CALBRIDGE_TEST_POSTGRES_URL"

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

# Two workers (pytest-xdist): most tests wait on a server or a subprocess, so two cores
# run the suite in about 60 % of the time one does. JOBS=0 runs it in one process.
JOBS ?= 2
unit: bytecode postgres
	$(BIN)/pytest -n $(JOBS) --dist worksteal

test: lint typecheck unit

# The sync state machine at 2000 examples (CI runs 200).
soak: $(STAMP) postgres
	HYPOTHESIS_PROFILE=soak $(BIN)/pytest -q tests/sync/test_state_machine.py --hypothesis-show-statistics

bench: $(STAMP)
	$(BIN)/python bench/book_bench.py
	$(BIN)/python bench/sync_bench.py
	$(BIN)/python bench/scale_bench.py
	$(BIN)/python bench/hostile_bench.py
	$(BIN)/python bench/inbound_bench.py
	$(BIN)/python bench/sms_bench.py
	$(BIN)/python bench/http_bench.py

clean:
	rm -rf $(VENV) state mail calendars .pytest_cache .mypy_cache .ruff_cache .hypothesis
