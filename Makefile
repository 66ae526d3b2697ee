# sigma-impressions: `make run` shows the whole product offline, `make test` checks it.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DBT_PROFILES_DIR := $(CURDIR)
export SIGMA_IMPRESSIONS_EXTENSION_DIR ?= $(CURDIR)/$(VENV)/duckdb_extensions
DEMO_DIR ?= $(CURDIR)/demo_exports
BENCH_ROWS ?= 5000000

.PHONY: install install-spark run test test-suite test-fast test-slow test-spark test-all lint lint-python lint-sql integration-tests browser bench bench-spark docs clean

install: $(STAMP)

$(STAMP): pyproject.toml requirements/constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements/constraints.txt -e '.[test,metrics]'
	$(BIN)/python -c "import duckdb, duckdb_extensions; \
	  con = duckdb.connect(config={'extension_directory': '$(SIGMA_IMPRESSIONS_EXTENSION_DIR)'}); \
	  duckdb_extensions.import_extension('httpfs', con=con)"
	touch $(STAMP)

## The main job on the embedded DuckDB: demo export -> inventory sync from a local Sigma API
## stand-in (127.0.0.1, the demo inventory) -> load -> dbt build -> publish -> report (and
## warehouse/report.html). Offline.
## The demo's exclusion rule: its service account's impressions (*@svc.acme.example) count only
## in fct_sigma_impressions and sigma_excluded_impressions.
## Same result when run again (the demo rewrites the same files). dbt's full log: logs/dbt.log.
run: install
	$(BIN)/sigma-impressions demo --out $(DEMO_DIR)
	DBT_LOG_LEVEL=$${DBT_LOG_LEVEL:-warn} $(BIN)/python -m sigma_impressions.demo.sigma_api_server -- \
	  $(BIN)/sigma-impressions run --bucket-uri file://$(DEMO_DIR) \
	  --vars '{sigma_excluded_users: ["*@svc.acme.example"]}'
	$(BIN)/sigma-impressions report
	$(BIN)/sigma-impressions report --format html --out warehouse/report.html

lint: lint-python lint-sql

lint-python: install
	$(BIN)/ruff check loader sigma_impressions tests bench
	$(BIN)/ruff format --check loader sigma_impressions tests bench

lint-sql: install
	SIGMA_IMPRESSIONS_DUCKDB_PATH=:memory: $(BIN)/sqlfluff lint --processes 0 models macros tests/dbt_singular

## This repo installed as a dbt package by integration_tests/ (packages.yml `local: ../`): seed
## its fixture, `dbt build` (the package's models and tests, and the marts against expected rows).
integration-tests: install
	cd integration_tests && export DBT_PROFILES_DIR=$(CURDIR)/integration_tests \
	  SIGMA_IMPRESSIONS_IT_DUCKDB_PATH=$(CURDIR)/integration_tests/target/integration_tests.duckdb && \
	  rm -f $$SIGMA_IMPRESSIONS_IT_DUCKDB_PATH && \
	  $(CURDIR)/$(BIN)/dbt deps --quiet && \
	  $(CURDIR)/$(BIN)/dbt seed --quiet && \
	  $(CURDIR)/$(BIN)/dbt build --quiet

## The HTML report's tests open the page in Debian's chromium (headless, through Playwright).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the HTML report's browser tests (apt-get)"; \
	  DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

## Lint, then every test: pure functions, the loader against moto_server and the GCS emulator,
## dbt builds (this repo as a package too) and the semantic layer (mf), the HTML page in chromium,
## end to end. Not the long fault tests (test-slow) nor Spark (test-spark). sqlfluff (a dbt compile
## of every model) runs beside the tests; three pytest workers share the two cores.
test: lint-python browser
	$(MAKE) --no-print-directory -j2 lint-sql test-suite

test-suite: install
	$(BIN)/pytest -q -n 3 --dist loadscope -m "not slow and not spark"

## The edit loop (under a minute): the tests that need no dbt, server or browser, one dbt build of
## the fixtures (every mart's rows) and the marts against the hand-written reference SQL.
test-fast: install
	$(BIN)/pytest -q -n 2 --dist loadscope -m "not emulator and not browser and not spark and not slow" \
	  tests/unit tests/functional/test_fixture_marts.py tests/functional/test_marts_match_reference.py

## The long fault tests (a 3M-row file killed 6 times, GCS giving up on a failing object): ~7 min.
test-slow: install
	$(BIN)/pytest -q -m slow

## dbt's Spark adapter and a local Spark (Java 17), once: pyspark is a large download.
install-spark: $(VENV)/.installed-spark

$(VENV)/.installed-spark: $(STAMP)
	@command -v java >/dev/null 2>&1 || { \
	  echo "installing Debian's Java 17 runtime for the local Spark (apt-get)"; \
	  DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null; }
	$(BIN)/pip install --quiet -c requirements/constraints.txt -e '.[spark]'
	touch $(VENV)/.installed-spark

## The same marts on Spark: exports -> file:// Parquet lake -> dbt build --target spark, every mart
## equal to DuckDB's (about 8 minutes on 2 cores, offline after install-spark).
test-spark: install-spark
	$(BIN)/pytest -q -m spark

## Everything: what CI runs.
test-all: test test-slow test-spark

## The benchmark (not part of make test; about 20 min on 2 cores): docs/benchmarks.md and .png.
bench: install
	$(BIN)/pip install --quiet -c requirements/constraints.txt -e '.[bench]'
	test -x .bench/peers/bin/python || $(PYTHON) -m venv .bench/peers
	.bench/peers/bin/pip install --quiet -r requirements/bench-peers.txt
	$(BIN)/python bench/run_bench.py --rows $(BENCH_ROWS)

## Spark local vs DuckDB building the same marts from the same Parquet lake (docs/benchmarks.md).
SPARK_BENCH_ROWS ?= 1000000,5000000
bench-spark: install-spark
	$(BIN)/python bench/spark_vs_duckdb.py --rows $(SPARK_BENCH_ROWS) --docs-dir docs

docs: install
	$(BIN)/dbt docs generate
	@echo "Serve with: $(BIN)/dbt docs serve --port 8080"

clean:
	rm -rf target logs warehouse/*.duckdb* $(DEMO_DIR) integration_tests/target integration_tests/logs integration_tests/dbt_packages
