# Two entry points: `make run` (install, index kb/, serve) and `make test` (install, run the tests).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
KB ?= kb
INDEX ?= .kb-index
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: install index run test lint bench clean

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

test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check indexer webapp tests bench

bench: install
	$(BIN)/python bench/search_latency.py --kb $(KB)

clean:
	rm -rf $(VENV) $(INDEX) .pytest_cache
