# The two commands: `make demo` and `make test`. Both set up .venv themselves.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test demo bench bench-scale lint clean FORCE

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# the compiled scoring modules (setup.py builds scoring._build.COMPILED) are rebuilt whenever a source changes
COMPILED := setup.py scoring/_build.py $(shell $(PYTHON) -c "import runpy; print(*runpy.run_path('scoring/_build.py')['COMPILED'])")

# ... and when one of their builds is missing (a `git clean` removes them but not .venv and its stamp)
EXT := $(shell $(PYTHON) -c "import sysconfig; print(sysconfig.get_config_var('EXT_SUFFIX'))")
MISSING := $(filter-out $(wildcard scoring/*$(EXT)),$(addsuffix $(EXT),$(basename $(filter scoring/%,$(filter-out scoring/_build.py,$(COMPILED))))))

$(STAMP): pyproject.toml $(COMPILED) $(if $(MISSING),FORCE) | $(BIN)/python
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

# The sizes of docs/scale.md (~3 hours on 2 cores, ~60 GB of disk at the peak; the store fills stop below 10% free
# disk, the index fills refuse to start without room): both stores on PostgreSQL at 10 million records (~27 and ~60
# minutes), the scale simulation at 1 million records over 256 miners (~35 minutes), the novelty index in memory at
# 10 million documents and on PostgreSQL at 10 million (~20 minutes). `make bench` stays at <= 1 million.
bench-scale: $(STAMP)
	GLEAN_BENCH_STORES_N=10000000 GLEAN_BENCH_STORES_MIN_FREE=0.10 $(BIN)/python -m benchmarks stores
	GLEAN_BENCH_SCALE_N=1000000 $(BIN)/python -m benchmarks scale
	GLEAN_BENCH_NOVELTY_SIZES=10000000 GLEAN_BENCH_NOVELTY_PG_N=10000000 \
	  GLEAN_BENCH_NOVELTY_PG_SETTINGS=shared_buffers=2GB,max_wal_size=4GB,maintenance_work_mem=1GB \
	  $(BIN)/python -m benchmarks novelty

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) .glean-demo .pytest_cache

FORCE:
