# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
MEMBERS ?= 20000
SEED    ?= 42
BENCH_MEMBERS ?= 200000   # a comma list (e.g. 1000000,2000000) also reports the scaling ratios

.PHONY: install demo test ui bench clean postgres-binaries fuzz

$(STAMP): pyproject.toml requirements.lock
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found; install Python 3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/icm demo --members $(MEMBERS) --seed $(SEED)

# The suite runs on DuckDB and on PostgreSQL. Without PG_URL, tests/conftest.py starts a throwaway
# server on 127.0.0.1 from the PostgreSQL server binaries (installed here with apt when missing).
test: install postgres-binaries
	$(BIN)/python -m pytest -q

postgres-binaries:
	@if [ -z "$$PG_URL" ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1; then \
	  echo "PostgreSQL server binaries not found; installing the 'postgresql' package with apt"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >/dev/null || \
	  (sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >/dev/null; \
	fi

ui: install
	DAGSTER_HOME=$(CURDIR)/.icm/dagster_home $(BIN)/icm ui

# Full fault-injection run of the loader (the suite runs a seeded 200 mutants and 5 kills); figures in .icm/fuzz.json
fuzz: install
	mkdir -p .icm && ICM_FUZZ_MUTANTS=1000 ICM_FUZZ_KILLS=20 ICM_FUZZ_TIMED_KILLS=1 ICM_FUZZ_REPORT=.icm/fuzz.json \
	  ICM_SKIP_PG=1 $(BIN)/python -m pytest -q -s tests/fuzz

bench: install
	$(BIN)/icm bench --members $(BENCH_MEMBERS)

clean:
	rm -rf .icm
