# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
MEMBERS ?= 20000
SEED    ?= 42
BENCH_MEMBERS ?= 200000   # a comma list (e.g. 1000000,2000000) also reports the scaling ratios

.PHONY: install demo test ui bench clean postgres-binaries browser-and-pdf-libs notebooks notebooks-run fuzz coverage

$(STAMP): pyproject.toml requirements.lock
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found; install Python 3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev,pdf]'
	@touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/icm demo --members $(MEMBERS) --seed $(SEED)

# The suite runs on DuckDB and on PostgreSQL. Without PG_URL, tests/conftest.py starts a throwaway
# server on 127.0.0.1 from the PostgreSQL server binaries (installed here with apt when missing). The practice
# feedback pages are opened in headless Chromium and printed to PDF with WeasyPrint (Pango): both come from
# Debian's packages, installed here when missing.
test: install postgres-binaries browser-and-pdf-libs
	$(BIN)/python -m pytest -q

# The suite under coverage.py, Python subprocesses included (`icm` run as a command, notebook kernels): pyproject's
# [tool.coverage] sets `patch = subprocess` and one data file per process, combined here. Prints the line coverage per
# package (lowest first) and in total; the HTML report goes to .icm/coverage/html. Slower than `make test`.
COVERAGE_DATA := $(CURDIR)/.icm/coverage/data
coverage: install postgres-binaries browser-and-pdf-libs
	rm -rf .icm/coverage
	COVERAGE_FILE=$(COVERAGE_DATA) $(BIN)/python -m coverage run -m pytest -q; status=$$?; \
	COVERAGE_FILE=$(COVERAGE_DATA) $(BIN)/python -m coverage combine -q && \
	COVERAGE_FILE=$(COVERAGE_DATA) $(BIN)/python -m coverage json -q -o .icm/coverage/coverage.json && \
	COVERAGE_FILE=$(COVERAGE_DATA) $(BIN)/python -m coverage html -q -d .icm/coverage/html && \
	$(BIN)/python -m tests.coverage_by_package .icm/coverage/coverage.json; exit $$status

postgres-binaries:
	@if [ -z "$$PG_URL" ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1; then \
	  echo "PostgreSQL server binaries not found; installing the 'postgresql' package with apt"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >/dev/null || \
	  (sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >/dev/null; \
	fi

browser-and-pdf-libs:
	@if ! command -v chromium >/dev/null 2>&1 || ! ldconfig -p | grep -q libpangoft2; then \
	  echo "Chromium or the Pango library not found; installing 'chromium' and 'libpangoft2-1.0-0' with apt"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium libpangoft2-1.0-0) >/dev/null || \
	  (sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium libpangoft2-1.0-0) >/dev/null || \
	  echo "warning: could not install chromium/libpangoft2-1.0-0; the browser and PDF tests will be skipped"; \
	fi

ui: install
	DAGSTER_HOME=$(CURDIR)/.icm/dagster_home $(BIN)/icm ui

# Actuary notebooks on the demo warehouse (read-only): `make notebooks` opens JupyterLab; `make notebooks-run`
# executes both headless into .icm/notebooks/ (HTML with the plots).
NOTEBOOK_STAMP := $(VENV)/.notebooks
$(NOTEBOOK_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev,notebooks]'
	@touch $(NOTEBOOK_STAMP)

notebooks: $(NOTEBOOK_STAMP)
	$(BIN)/jupyter lab --notebook-dir=notebooks

notebooks-run: $(NOTEBOOK_STAMP)
	$(BIN)/jupyter nbconvert --to html --execute --output-dir .icm/notebooks notebooks/*.ipynb

# Full fault-injection run of the loader, every format, DuckDB and PostgreSQL (the suite runs a seeded 200 Tuva
# mutants, a few dozen of the other formats, 4 on PostgreSQL and 5 kills); figures in .icm/fuzz.json
fuzz: install
	mkdir -p .icm && ICM_FUZZ_MUTANTS=1000 ICM_FUZZ_FORMAT_MUTANTS=60 ICM_FUZZ_PG_MUTANTS=30 ICM_FUZZ_KILLS=20 \
	  ICM_FUZZ_TIMED_KILLS=1 ICM_FUZZ_REPORT=.icm/fuzz.json $(BIN)/python -m pytest -q -s tests/fuzz

bench: install
	$(BIN)/icm bench --members $(BENCH_MEMBERS)

clean:
	rm -rf .icm
