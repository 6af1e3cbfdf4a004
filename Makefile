# Tablero: `make demo` and `make test` are the whole quick start.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install demo test test-fast bench bench-quick bench-soak bench-faults browser dovecot schemas clean help

help:
	@echo "make demo   - local Kafka + worker + API + embedded ClickHouse with simulated traffic"
	@echo "make test   - install and run the whole suite (starts its own Kafka, uses chDB and Chromium)"
	@echo "make bench  - the benchmark (bench/results.md); make bench-quick for a 2-minute run"
	@echo "make bench-soak - 30 minutes at 2,000 events/s: RSS, lag, p99 each minute (bench/soak.md)"
	@echo "make bench-faults - 3 workers, one killed with kill -9 every 60 s for 5 minutes under load (bench/faults.md)"

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required (found %s)" % sys.version.split()[0])'
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -U pip
	$(BIN)/pip install -q --disable-pip-version-check -e '.[test,bench]'
	touch $(STAMP)

install: $(STAMP)

# Headless Chromium for the page tests, from Debian's package (never a downloaded browser).
browser:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get install -y -q chromium >/dev/null || (apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null); \
	  elif command -v sudo >/dev/null; then sudo apt-get install -y -q chromium; \
	  else echo "Chromium is missing: install Debian's package 'chromium' (apt-get install chromium)"; exit 1; fi; }

# Real IMAP server for the mail connector tests (started unprivileged by tests/dovecot.py).
dovecot:
	@test -x /usr/sbin/dovecot -a -x /usr/bin/doveadm || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get install -y -q dovecot-imapd >/dev/null || (apt-get update -q >/dev/null && apt-get install -y -q dovecot-imapd >/dev/null); \
	  elif command -v sudo >/dev/null; then sudo apt-get install -y -q dovecot-imapd; \
	  else echo "dovecot is missing: install Debian's package 'dovecot-imapd' (apt-get install dovecot-imapd)"; exit 1; fi; }

demo: install
	$(BIN)/tablero demo

test: install browser dovecot
	$(BIN)/python -m pytest -q -p no:cacheprovider

test-fast: install
	$(BIN)/python -m pytest -q -m "not slow"

bench: install
	$(BIN)/python -m bench.run

bench-quick: install
	$(BIN)/python -m bench.run --quick

# Endurance (not part of `make test`): python -m bench.soak --help for the knobs.
bench-soak: install
	$(BIN)/python -m bench.soak

# Faults under load (not part of `make test`): python -m bench.faults --help.
bench-faults: install
	$(BIN)/python -m bench.faults

schemas: install
	$(BIN)/python -m pipeline.schemas.export

clean:
	-$(BIN)/tablero kafka stop
	rm -rf data .pytest_cache
