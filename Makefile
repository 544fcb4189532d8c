# The commands a new user needs: make run, make test. Everything else supports those.
PYTHON ?= python3
PORT ?= 5000
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app portal
export PORTAL_BASE_URL ?= http://127.0.0.1:$(PORT)

# Installs come from the lock files (exact versions with hashes); pyproject.toml keeps the ranges.
APP_LOCK := requirements/app.lock
TEST_LOCK := requirements/test.lock
# One lock for every platform and Python >= 3.11 (Linux x86_64 and aarch64 among them), not just this machine.
UV_COMPILE = $(BIN)/uv pip compile --quiet --universal --python-version 3.11 --generate-hashes \
	--custom-compile-command "make lock" $(LOCK_ARGS)

.PHONY: run test test-fast lint lock translations extract-messages bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# --no-deps for the project itself: every dependency comes from the lock. pip check fails when pyproject.toml
# asks for something the lock lacks.
$(VENV)/.installed: $(APP_LOCK) pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r $(APP_LOCK)
	$(BIN)/pip install --quiet --no-deps -e .
	@$(BIN)/pip check >/dev/null \
		|| { $(BIN)/pip check; echo "$(APP_LOCK) is behind pyproject.toml: run make lock"; exit 1; }
	@touch $@

$(VENV)/.installed-test: $(TEST_LOCK) $(VENV)/.installed
	$(BIN)/pip install --quiet --require-hashes -r $(TEST_LOCK)
	$(BIN)/pip install --quiet --no-deps -e .
	@touch $@

# Run after changing a dependency in pyproject.toml. Existing pins are kept (LOCK_ARGS=--upgrade takes the newest
# allowed). The test lock is constrained by the app lock: the tests run on exactly the versions the app installs.
# uv itself comes from the test lock.
lock: | $(BIN)/python
	@test -x $(BIN)/uv || $(BIN)/pip install --quiet --require-hashes -r $(TEST_LOCK)
	@mkdir -p requirements
	$(UV_COMPILE) pyproject.toml -o $(APP_LOCK)
	$(UV_COMPILE) --extra test --constraint $(APP_LOCK) pyproject.toml -o $(TEST_LOCK)

translations: $(VENV)/.installed
	@$(BIN)/pybabel -q compile -d translations

run: $(VENV)/.installed translations
	@mkdir -p instance
	@$(FLASK) db upgrade
	@$(FLASK) demo load
	@echo ""
	@echo "Personal links of the demo customers (open one in your browser):"
	@$(FLASK) demo links
	@echo ""
	@$(FLASK) demo staff
	@echo ""
	$(FLASK) run --host 127.0.0.1 --port $(PORT)

test: $(VENV)/.installed-test translations
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Update messages.pot from the code and templates, and merge new messages into every catalog.
extract-messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k _n:1,2 -k _p:1c,2 --no-location --sort-output --ignore-dirs=".* .venv instance" \
		--omit-header -o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching --ignore-obsolete

bench: $(VENV)/.installed-test translations
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) instance .pytest_cache
