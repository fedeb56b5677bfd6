# The two commands: `make demo` and `make test`. Both set up .venv themselves.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test demo bench lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# the compiled scoring modules (setup.py builds scoring._build.COMPILED) are rebuilt whenever a source changes
COMPILED := setup.py scoring/_build.py $(shell $(PYTHON) -c "import runpy; print(*runpy.run_path('scoring/_build.py')['COMPILED'])")

$(STAMP): pyproject.toml $(COMPILED) | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# scripts/system-deps installs what pip cannot (PostgreSQL server, chromium + chromedriver) when run as root,
# otherwise it stops with the apt command to run
test: $(STAMP)
	PYTHON=$(BIN)/python scripts/system-deps
	$(BIN)/python -m pytest -q

# A whole network on this machine (LocalChain, offline sample web, 3 miners, 1 validator, 6 epochs), then the
# leaderboard and the release: about 2 minutes on 2 cores. Everything lands in .glean-demo/.
demo: $(STAMP)
	$(BIN)/glean --data-dir .glean-demo local up --offline --fresh

bench: $(STAMP)
	$(BIN)/python -m benchmarks

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) .glean-demo .pytest_cache
