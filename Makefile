# idgraph: `make run` serves the API on the embedded Neo4j; `make test` runs the whole suite against a real Neo4j.
# Both set everything up on a fresh machine: Java and Maven (apt, when missing), the virtualenv, the Neo4j jars,
# the explorer's npm library (and Node.js/npm from apt when missing); `make test` also Debian's Chromium.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: run test test-routing test-unit fuzz lint install java neo4j-jars neo4j-start neo4j-stop clean explorer-assets browser test-clients

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

java:
	@scripts/ensure-java.sh

# Resolves Neo4j's jars from Maven Central into ~/.cache/idgraph (once) and compiles the launcher.
neo4j-jars: install java
	@$(BIN)/python -c "from app.neo4j_local import ensure_runtime; print('neo4j runtime:', ensure_runtime())"

# The explorer's graph library from the npm registry (pinned by explorer/package-lock.json), rebuilt when the
# lockfile changes. Without npm or the registry it warns and the API still runs (scripts/build-explorer-assets.sh).
EXPLORER_VENDOR := app/explorer/static/vendor/cytoscape.min.js

$(EXPLORER_VENDOR): explorer/package.json explorer/package-lock.json
	@scripts/build-explorer-assets.sh

explorer-assets: $(EXPLORER_VENDOR)

# Debian's Chromium for the explorer's browser tests (apt, as root); without it those tests are skipped,
# and under CI=true (.ci/run) the run fails instead.
browser:
	@scripts/ensure-chromium.sh

# The Node.js clients tests/api/test_client_sdks.py drives (@segment/analytics-node, pinned by
# tests/node/package-lock.json; `npm ci` again only when the lockfile changes). Without npm those tests skip.
test-clients:
	@scripts/install-test-clients.sh

run: neo4j-jars explorer-assets
	$(BIN)/idgraph serve

# Everything: tests/unit, then tests/api and tests/system against a real Neo4j the suite starts itself, then
# the identity, ingestion and read tests again over the routing scheme.
test: neo4j-jars explorer-assets browser test-clients
	$(BIN)/python -m pytest $(PYTEST_ARGS)
	$(MAKE) --no-print-directory test-routing

# The identity, ingestion and read tests over neo4j:// (the driver's routing, as to a cluster or Aura) against
# the Neo4j the suite starts: a minute or two on top of `make test`.
ROUTING_TESTS := tests/api/test_routing.py tests/api/test_bookmarks.py tests/api/test_identity_rules_v2.py \
	tests/api/test_tracardi.py tests/api/test_foundation.py
test-routing: neo4j-jars
	$(BIN)/python -m pytest --neo4j-scheme neo4j $(ROUTING_TESTS) $(PYTEST_ARGS)

# Only tests/unit: no Neo4j, no Java, no browser; seconds.
test-unit: install
	$(BIN)/python -m pytest tests/unit $(PYTEST_ARGS)

# The schema-driven fuzz tests with many more cases than `make test` runs (FUZZ_EXAMPLES per operation),
# and the traits fold's property test with TRAITS_FOLD_EXAMPLES histories (200 in `make test`).
FUZZ_EXAMPLES ?= 500
TRAITS_FOLD_EXAMPLES ?= 2000
fuzz: neo4j-jars
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest tests/system/test_fuzz.py -s $(PYTEST_ARGS)
	TRAITS_FOLD_EXAMPLES=$(TRAITS_FOLD_EXAMPLES) $(BIN)/python -m pytest tests/api/test_traits_fold.py $(PYTEST_ARGS)

# ruff, mypy, and the import contracts of pyproject.toml ([tool.importlinter]: dependencies point inward).
lint: install
	$(BIN)/ruff check app graph_model tests bench
	$(BIN)/ruff format --check app graph_model tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

neo4j-start: neo4j-jars
	$(BIN)/idgraph neo4j start

neo4j-stop: install
	$(BIN)/idgraph neo4j stop

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache explorer/node_modules tests/node/node_modules $(EXPLORER_VENDOR)

# A bounded memory soak: the API under steady /track load for 10 minutes, its RSS sampled every 10 s;
# writes bench/results/soak.json (growth_mb, slope_mb_per_min, leak_suspected). SOAK_MINUTES=1 for a smoke run.
SOAK_MINUTES ?= 10
.PHONY: soak
soak: neo4j-jars
	$(BIN)/python -m bench.soak --minutes $(SOAK_MINUTES)

# Every benchmark in one run (identity, traits, quality, ingest), each against its baseline in the same run;
# writes bench/results/*.json, summary.json and summary.md.
.PHONY: bench
bench: neo4j-jars
	$(BIN)/python -m bench.run_all
