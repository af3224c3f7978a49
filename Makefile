# Shouhu 守护 — development and local-run targets (GNU make). `make help` lists them.
#
#   make run    install requirements.txt into .venv, prepare var/ and the database, start
#               gunicorn (or runserver with SHOUHU_DEBUG=1) and the task worker on 127.0.0.1:8000
#   make test   install requirements-dev.txt, then ruff, mypy, pytest on SQLite, pytest on
#               PostgreSQL, and the Playwright browser tests in Debian's Chromium
#
# Every target exits non-zero on any failure.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
.NOTPARALLEL:
.DELETE_ON_ERROR:
MAKEFLAGS += --no-print-directory

# Interpreter used to create .venv (must be Python >= 3.11).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

# `make run`
HOST ?= 127.0.0.1
PORT ?= 8000

# `make test`
SQLITE_TEST_URL ?= sqlite:///var/test.sqlite3
# pytest-django creates (and drops) the database test_shouhu, test_shouhu_gw0… from this URL;
# the database "shouhu" itself need not exist.
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/shouhu
# pytest-xdist processes for the SQLite and PostgreSQL runs (0 = serial). Serial is the default:
# on this project's 2-core machines each xdist worker repeats the migrations, the region load and
# the module-scoped fixtures, and `-n 2` measured no faster (SQLite 29 s vs 17 s, PostgreSQL 31 s
# vs 30 s, 240 tests). Try PYTEST_WORKERS=2 on a bigger machine.
PYTEST_WORKERS ?= 0
# Extra arguments for every pytest run, e.g. PYTEST_ARGS="-x -k ledger".
PYTEST_ARGS ?=
# Arguments for bench/ledger_bench.py, e.g. BENCH_ARGS="--children 100000".
BENCH_ARGS ?=

ifeq ($(PYTEST_WORKERS),0)
XDIST :=
else
XDIST := -n $(PYTEST_WORKERS)
endif

RUNTIME_STAMP := $(VENV)/.stamp-requirements
DEV_STAMP := $(VENV)/.stamp-requirements-dev

.PHONY: help run test lint typecheck test-databases test-sqlite test-sqlite-browser test-postgres test-browser bench clean distclean venv

help:
	@echo "make run            启动：gunicorn + 任务进程，http://$(HOST):$(PORT)/ (SHOUHU_DEBUG=1: runserver)"
	@echo "make test           全部检查：ruff、mypy、pytest (SQLite, PostgreSQL)、浏览器测试"
	@echo "make lint           ruff check ."
	@echo "make typecheck      mypy ."
	@echo "make test-sqlite    pytest -m 'not browser' on SQLite"
	@echo "make test-postgres  pytest -m 'not browser' on PostgreSQL ($(PG_TEST_URL))"
	@echo "make test-browser   pytest -m browser (Playwright + /usr/bin/chromium) on SQLite"
	@echo "make test-sqlite-browser  both in one pytest process on SQLite (make test's SQLite side)"
	@echo "make bench          python bench/ledger_bench.py (if present)"
	@echo "make clean          remove caches, test databases, collected static files"
	@echo "make distclean      clean + remove .venv (var/ with keys and data is never removed)"

# --- virtualenv ------------------------------------------------------------------------------

$(PY):
	@command -v $(PYTHON) >/dev/null || { echo "找不到 $(PYTHON)：需要 Python >= 3.11 (make PYTHON=python3.12 …)" >&2; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || \
		{ echo "$(PYTHON) 版本过低：需要 Python >= 3.11 (make PYTHON=python3.12 …)" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

# Stamps: reinstall only when a requirements file is newer than the last install.
$(RUNTIME_STAMP): requirements.txt | $(PY)
	$(PY) -m pip install -r requirements.txt
	@touch $@

$(DEV_STAMP): requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install -r requirements-dev.txt
	@touch $@ $(RUNTIME_STAMP)

venv: $(DEV_STAMP)

var:
	@mkdir -p var && chmod 700 var

# --- run -------------------------------------------------------------------------------------

run: $(RUNTIME_STAMP) | var
	@VENV='$(VENV)' HOST='$(HOST)' PORT='$(PORT)' bash bin/run.sh

# --- checks ----------------------------------------------------------------------------------

test: lint test-databases
	@echo
	@echo "make test: 全部通过 all stages passed"

lint: $(DEV_STAMP)
	$(VENV)/bin/ruff check .

typecheck: $(DEV_STAMP)
	$(VENV)/bin/mypy .

# The SQLite and PostgreSQL runs side by side: each is one process on one core (TEST_SERIAL=1
# runs them one after the other). The PostgreSQL run is the longer, so mypy and the browser
# tests go on the SQLite side, within its time.
TEST_SERIAL ?= 0
test-databases: $(DEV_STAMP) | var
	@if [ "$(TEST_SERIAL)" = 1 ]; then \
		$(MAKE) typecheck && $(MAKE) test-sqlite && $(MAKE) test-browser && $(MAKE) test-postgres; \
	else \
		bash bin/side-by-side.sh \
			sqlite "$(MAKE) typecheck && $(MAKE) test-sqlite-browser" \
			postgres "$(MAKE) test-postgres"; \
	fi
test-sqlite: $(DEV_STAMP) | var
	@DATABASE_URL='$(SQLITE_TEST_URL)' VENV='$(VENV)' bash bin/pytest.sh -m "not browser" $(XDIST) $(PYTEST_ARGS)

# `make test`'s SQLite side: the suite and the browser tests in one pytest process, so the test
# database is migrated once (the browser tests run last; browser/conftest.py).
test-sqlite-browser: $(DEV_STAMP) | var
	@if bash bin/ensure-chromium.sh; then \
		DATABASE_URL='$(SQLITE_TEST_URL)' DJANGO_ALLOW_ASYNC_UNSAFE=true VENV='$(VENV)' \
			bash bin/pytest.sh $(PYTEST_ARGS); \
	else \
		bash bin/skip-or-fail.sh "浏览器测试 (pytest -m browser)" \
			"Debian chromium is not available at /usr/bin/chromium (apt-get install chromium, as root)." && \
		DATABASE_URL='$(SQLITE_TEST_URL)' VENV='$(VENV)' bash bin/pytest.sh -m "not browser" $(XDIST) $(PYTEST_ARGS); \
	fi

test-postgres: $(DEV_STAMP) | var
	@if VENV='$(VENV)' bash bin/pg-reachable.sh '$(PG_TEST_URL)'; then \
		DATABASE_URL='$(PG_TEST_URL)' VENV='$(VENV)' bash bin/pytest.sh -m "not browser" $(XDIST) $(PYTEST_ARGS); \
	else \
		bash bin/skip-or-fail.sh "PostgreSQL 测试 (pytest on PostgreSQL)" \
			"PostgreSQL is not reachable (PG_TEST_URL; .ci/run starts the local cluster)."; \
	fi

# Browser tests drive Debian's /usr/bin/chromium through Playwright (never `playwright install`).
# Playwright's sync API runs an event loop in the test thread, so Django's async-safety check
# is switched off for this run only.
test-browser: $(DEV_STAMP) | var
	@if bash bin/ensure-chromium.sh; then \
		DATABASE_URL='$(SQLITE_TEST_URL)' DJANGO_ALLOW_ASYNC_UNSAFE=true VENV='$(VENV)' \
			bash bin/pytest.sh -m browser $(PYTEST_ARGS); \
	else \
		bash bin/skip-or-fail.sh "浏览器测试 (pytest -m browser)" \
			"Debian chromium is not available at /usr/bin/chromium (apt-get install chromium, as root)."; \
	fi

# --- other -----------------------------------------------------------------------------------

bench: $(DEV_STAMP)
	@if [ -f bench/ledger_bench.py ]; then \
		$(PY) bench/ledger_bench.py $(BENCH_ARGS); \
	else \
		echo "bench/ledger_bench.py 不存在，无基准可跑 (no benchmark yet)"; \
	fi

clean:
	rm -rf .mypy_cache .ruff_cache .pytest_cache .hypothesis test-results var/staticfiles
	rm -f var/test.sqlite3 var/test.sqlite3-wal var/test.sqlite3-shm
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
