# The two commands a new user runs: `make demo` and `make test`. Each creates .venv when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The CPU build of torch lies on these machines; the constraint keeps resolvers off CUDA builds.
PIP_INSTALL := $(BIN)/pip install --quiet --disable-pip-version-check -c constraints/cpu.txt
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast lint format bench bench-serve fixtures clean duplication browser
# repeated code: no block of 6 or more lines (imports, docstrings and signatures aside) twice in src/
DUPLICATION := $(BIN)/python -m pylint --disable=all --enable=duplicate-code --min-similarity-lines=6 \
	--ignore-imports=yes --ignore-docstrings=yes --ignore-signatures=yes --score=no src/albertlite

$(STAMP): pyproject.toml constraints/cpu.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) --upgrade pip
	$(PIP_INSTALL) "torch==2.13.0"
	$(PIP_INSTALL) -e ".[test]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m albertlite.demo

# The web page test drives Debian's headless chromium (tests/test_serve_page.py). CI runs as root and installs it
# here; elsewhere the test skips when the browser is missing, and in CI (CI set, as .ci/run does) it fails instead.
browser:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	else echo "chromium/chromium-driver missing (not root): the web page test will skip"; fi

test: $(STAMP) browser
	$(BIN)/ruff check src tests scripts benchmarks
	$(DUPLICATION)
	$(BIN)/python -m pytest -n 2 --dist loadfile --durations=15

test-fast: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadfile -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check src tests scripts benchmarks
	$(BIN)/ruff format --check src tests scripts benchmarks
	$(DUPLICATION)

format: $(STAMP)
	$(BIN)/ruff format src tests scripts benchmarks
	$(BIN)/ruff check --fix src tests scripts benchmarks

bench: $(STAMP)
	$(PIP_INSTALL) -e ".[bench]"
	$(BIN)/python benchmarks/bench_models.py

bench-serve: $(STAMP)
	$(BIN)/python benchmarks/bench_serve.py

# Reference fixtures from transformers 4.57, which cannot share a venv with 5.x.
HF457 := .venv-hf457
$(HF457)/.installed: scripts/requirements-hf457.txt
	test -x $(HF457)/bin/python || $(PYTHON) -m venv $(HF457)
	$(HF457)/bin/pip install --quiet -c constraints/cpu.txt "torch==2.13.0"
	$(HF457)/bin/pip install --quiet -c constraints/cpu.txt -r scripts/requirements-hf457.txt
	touch $@

# every fixture a script in scripts/ writes (tests/test_layout.py checks that none is left out)
FIXTURE_SCRIPTS := make_hf457_fixtures make_tf_legacy_fixture make_flax_legacy_fixture \
	make_google_checkpoint_fixture make_tokenizer_fixtures

fixtures: $(HF457)/.installed
	for script in $(FIXTURE_SCRIPTS); do $(HF457)/bin/python scripts/$$script.py || exit 1; done

clean:
	rm -rf $(VENV) $(HF457) build dist src/*.egg-info
