# Two commands for a fresh clone: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PORT ?= 8000
# Links in emails point at the server `make run` starts, on whatever PORT it uses.
SITE_URL ?= http://127.0.0.1:$(PORT)
BIN := $(VENV)/bin
# The suite runs in this many processes (pytest-xdist), each with its own test database and Redis database.
TEST_WORKERS ?= 2

.PHONY: run test lint format e2e clean

$(BIN)/activate: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(BIN)/activate

venv: $(BIN)/activate

run: venv
	DEBUG=1 $(BIN)/python manage.py migrate --noinput
	DEBUG=1 SITE_URL='$(SITE_URL)' $(BIN)/python manage.py seed_demo
	@# The scheduled jobs run beside the server in a small scheduler process (no Redis needed);
	@# Ctrl-C stops the server, and the trap stops the scheduler with it.
	DEBUG=1 SITE_URL='$(SITE_URL)' $(BIN)/python manage.py run_scheduler & scheduler=$$!; \
	trap 'kill $$scheduler 2>/dev/null' EXIT INT TERM; \
	DEBUG=1 SITE_URL='$(SITE_URL)' $(BIN)/daphne -b 127.0.0.1 -p $(PORT) mentoring.asgi:application

test: venv
	$(BIN)/python -m pytest -n $(TEST_WORKERS)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/djlint templates --lint
	$(BIN)/lint-imports

format: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-wal db.sqlite3-shm staticfiles .pytest_cache
