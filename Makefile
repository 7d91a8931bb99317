# audiospec: the two entry points are `make demo` and `make test`.
# Every install uses the exact tested versions of constraints.txt (pyproject.toml holds ranges).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
LOCK := constraints.txt
PIP_INSTALL := $(PY) -m pip install --quiet -c $(LOCK) --build-constraint $(LOCK)
STAMP := $(VENV)/.audiospec-installed
TEST_STAMP := $(VENV)/.audiospec-test-installed
BENCH_STAMP := $(VENV)/.audiospec-bench-installed
DOCS_STAMP := $(VENV)/.audiospec-docs-installed
DEMO_OUT ?= runs/demo
# the fast tier of the tests (a few minutes), run on every Python by test-versions
FAST_TESTS ?= tests/functional tests/diffusion tests/measures tests/test_cli.py
DOCS_OUT ?= build/docs
DOCS_MODULES := audiospec.functional audiospec.data audiospec.diffusion audiospec.metrics audiospec.measures '!audiospec\.[a-z]+\.'

.PHONY: demo test test-fast test-versions docs bench corpus corpus-debian browser clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -c $(LOCK) --upgrade pip

$(STAMP): pyproject.toml $(LOCK) | $(PY)
	$(PIP_INSTALL) -e .
	touch $@

$(TEST_STAMP): pyproject.toml $(LOCK) | $(PY)
	$(PIP_INSTALL) -e ".[test]"
	touch $@ $(STAMP)

$(BENCH_STAMP): pyproject.toml $(LOCK) | $(PY)
	$(PIP_INSTALL) -e ".[test,bench]"
	touch $@ $(TEST_STAMP) $(STAMP)

$(DOCS_STAMP): pyproject.toml $(LOCK) | $(PY)
	$(PIP_INSTALL) -e ".[docs]"
	touch $@ $(STAMP)

## corpus: install the Debian packages (if missing) and cut data/mini
corpus: $(STAMP)
	$(VENV)/bin/audiospec prepare mini --install-packages

## corpus-debian: install the six Debian packages of the larger corpus (if missing) and cut data/debian
corpus-debian: $(STAMP)
	$(VENV)/bin/audiospec prepare debian --install-packages

## demo: the main job on the embedded offline corpus; prints the report path
demo: $(STAMP) corpus
	$(VENV)/bin/audiospec demo --out $(DEMO_OUT)

## browser: Debian's chromium for the report test (installed when root; otherwise that test is skipped)
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium) \
	      || echo "could not install chromium: the browser test of the report will be skipped"; \
	  else echo "chromium missing (sudo apt-get install chromium): the browser test of the report will be skipped"; fi; }

## test: the whole test suite (pytest exit code 5, "no tests", counts as a failure)
test: $(TEST_STAMP) browser
	$(PY) -m pytest; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; exit $$rc

## test-fast: the fast tier only (FAST_TESTS), in VENV
test-fast: $(TEST_STAMP)
	$(PY) -m pytest -q $(FAST_TESTS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; exit $$rc

## test-versions: the fast tier on every Python found among 3.11-3.13, each in its own .venv-3.X
test-versions:
	tools/test-versions.sh

## docs: API reference of functional, data, diffusion, metrics, measures (pdoc, Google style) into DOCS_OUT; a warning fails
docs: $(DOCS_STAMP)
	@mkdir -p build
	$(PY) -m pdoc --docformat google --no-show-source --output-directory $(DOCS_OUT) $(DOCS_MODULES) \
	  2> build/pdoc-stderr.txt; rc=$$?; cat build/pdoc-stderr.txt >&2; \
	if [ $$rc -ne 0 ] || [ -s build/pdoc-stderr.txt ]; then echo "pdoc failed or warned (above): failing"; exit 1; fi
	@echo "API docs: $(DOCS_OUT)/index.html"

## bench: speed ratios against peers, JSON under benchmarks/results/
bench: $(BENCH_STAMP)
	$(PY) -m benchmarks

clean:
	rm -rf runs .pytest_cache .hypothesis
