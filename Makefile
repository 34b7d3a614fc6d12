# The two commands: `make run` (set up, then start the workstation on the paper
# exchange) and `make test` (set up, then run the whole test suite).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test setup lint check bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[all,dev]"
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(BIN)/tui-trader $(ARGS)

# Three workers on CI's two cores: about a third of the suite's time is tests waiting on
# subprocesses, sockets and timers (daemons, venues' reconnects, the browser), and a third
# worker runs tests while another waits (docs/development.md). The package's bytecode is written
# first (compileall writes it even with PYTHONDONTWRITEBYTECODE set, as in our containers): else
# every Python process the tests start (a daemon, the workstation, the CLI, a fake exchange)
# compiled the modules it imports from source again.
test: $(STAMP)
	$(BIN)/python -m compileall -q tui_trader plugins tests/fakes >/dev/null
	$(BIN)/python -m pytest -q -n 3 -p no:cacheprovider $(PYTEST_ARGS)

lint: check

# Static checks: style, types, the layers contract and no import cycles.
check: $(STAMP)
	$(BIN)/ruff check tui_trader tests plugins bench
	$(BIN)/mypy tui_trader
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/foundation/test_layers.py

bench: $(STAMP)
	for f in bench/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
