# The commands a new user needs: make run, make test. Everything else supports those.
PYTHON ?= python3
PORT ?= 5000
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app portal
export PORTAL_BASE_URL ?= http://127.0.0.1:$(PORT)

.PHONY: run test test-fast lint translations extract-messages bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e ".[test]"
	@touch $@

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

# Update messages.pot from the code and templates, and merge new messages into every catalog.
extract-messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k _n:1,2 -k _p:1c,2 --no-location --sort-output --ignore-dirs=".* .venv instance" \
		--omit-header -o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching --ignore-obsolete

bench: $(VENV)/.installed-test translations
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) instance .pytest_cache
