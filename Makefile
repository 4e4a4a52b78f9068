# The two commands of the README: `make run` (the service) and `make test` (every test).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# Real parts the tests drive: the OpenID provider (npm, tests/oidc) and healthchain's CDS Hooks
# client (a venv of its own, tests/cds). Both steps do nothing when already done.
OIDC_STAMP := tests/oidc/node_modules/.installed

.PHONY: run test bench install lock demo test-deps messages compile-messages

# requirements.lock pins every package to the version CI tested (constraints, so extras stay optional).
$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

$(OIDC_STAMP): tests/oidc/package.json tests/oidc/package-lock.json
	npm ci --prefix tests/oidc --no-audit --no-fund --loglevel=error
	touch $(OIDC_STAMP)

test-deps: $(OIDC_STAMP)
	PY=$(PY) bash tests/cds/make_venv.sh

run: $(STAMP)
	$(BIN)/myocit run

test: $(STAMP) test-deps
	$(BIN)/lint-imports
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Sample children of two sites posted through the service's intake, and the tokens to sign in.
demo: $(STAMP)
	$(BIN)/myocit demo

# After a dependency changed in pyproject.toml: install it, then write the versions installed.
lock:
	$(BIN)/pip install --quiet -e '.[dev]'
	{ sed -n '1,3p' requirements.lock; $(BIN)/pip freeze --exclude-editable | grep -v '^#' | sort -f; } > requirements.lock.new
	mv requirements.lock.new requirements.lock

# The catalogs (contract §18): extract every text of the pages, alerts and reasons, then update each
# language's .po (new ids arrive untranslated; tests/unit/test_translations.py names them). The
# service compiles the .po in memory when it starts; compile-messages checks they compile.
LOCALES := config/locale
KEYWORDS := -k _ -k N_ -k said_as -k term -k latest_result:3 -k _cytopenia:2
messages: $(STAMP)
	$(BIN)/pybabel extract -F $(LOCALES)/babel.cfg $(KEYWORDS) --no-wrap --sort-output --omit-header --no-location \
		-o $(LOCALES)/messages.pot .
	$(BIN)/pybabel update -i $(LOCALES)/messages.pot -d $(LOCALES) --no-wrap --no-fuzzy-matching --ignore-obsolete

compile-messages: $(STAMP)
	$(BIN)/pybabel compile -l fr --statistics -i $(LOCALES)/fr/LC_MESSAGES/messages.po -o /dev/null

bench: $(STAMP)
	$(BIN)/python bench/engine.py
