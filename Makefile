# stsd — two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $(STAMP)

install: $(STAMP)  ## create .venv with stsd on its PATH (.venv/bin/stsd)

run: $(STAMP)  ## start stsd on 127.0.0.1:8080 with the embedded SQLite store in ./.stsd
	$(BIN)/stsd serve --host 127.0.0.1 --port 8080 --data-dir .stsd

lint: $(STAMP)
	$(BIN)/ruff check src tests bench

test: $(STAMP) lint  ## the whole test suite
	$(BIN)/pytest -n 2 --dist loadfile -q

bench: $(STAMP)  ## stsd vs moto_server side by side (not a test)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
