# idgraph: `make run` serves the API on the embedded Neo4j; `make test` runs the whole suite against a real Neo4j.
# Both set everything up on a fresh machine: Java and Maven (apt, when missing), the virtualenv, the Neo4j jars.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: run test lint install java neo4j-jars neo4j-start neo4j-stop clean

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

run: neo4j-jars
	$(BIN)/idgraph serve

test: neo4j-jars
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check app graph_model tests
	$(BIN)/ruff format --check app graph_model tests
	$(BIN)/mypy

neo4j-start: neo4j-jars
	$(BIN)/idgraph neo4j start

neo4j-stop: install
	$(BIN)/idgraph neo4j stop

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
