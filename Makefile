# audiospec: the two entry points are `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.audiospec-installed
TEST_STAMP := $(VENV)/.audiospec-test-installed
BENCH_STAMP := $(VENV)/.audiospec-bench-installed
DEMO_OUT ?= runs/demo

.PHONY: demo test bench corpus corpus-debian browser clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	touch $@

$(TEST_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[test]"
	touch $@ $(STAMP)

$(BENCH_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[test,bench]"
	touch $@ $(TEST_STAMP) $(STAMP)

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

## bench: speed ratios against peers, JSON under benchmarks/results/
bench: $(BENCH_STAMP)
	$(PY) -m benchmarks

clean:
	rm -rf runs .pytest_cache .hypothesis
