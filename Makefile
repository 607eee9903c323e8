# Two entry points: `make run` (install, index kb/, serve) and `make test` (install, run the tests).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
KB ?= kb
INDEX ?= .kb-index
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: install browser services index run test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# The CPU build of torch first, pinned, so nothing later pulls a multi-gigabyte CUDA build.
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

index: install
	$(BIN)/kb index --kb $(KB) --index $(INDEX)

run: index
	$(BIN)/kb serve --index $(INDEX) --host $(HOST) --port $(PORT)

# Debian's chromium for the browser tests (Playwright drives it; it never downloads a browser of its own).
# Without root or sudo the install is skipped and so are those tests, unless KB_REQUIRE_BROWSER is set.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  { $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } \
	    || echo "Could not install chromium; the browser tests will be skipped"; }

# Debian's PostgreSQL and haproxy for the query-log and replica tests, which start their own in a temporary
# directory. Without them those tests skip, unless KB_REQUIRE_POSTGRES / KB_REQUIRE_HAPROXY is set.
services:
	@{ ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && command -v haproxy >/dev/null 2>&1; } || { \
	  echo "Installing Debian's postgresql and haproxy for the query-log and replica tests"; \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  { $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql haproxy; } \
	    || echo "Could not install postgresql and haproxy; the tests that need them will be skipped"; }

test: install browser services
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check indexer webapp tests bench

bench: install
	$(BIN)/python bench/search_latency.py --kb $(KB)

clean:
	rm -rf $(VENV) $(INDEX) .pytest_cache
