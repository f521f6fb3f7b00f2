# enhancer-tools: `make demo` runs the whole chain on the bundled demo data; `make test` runs the tests.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# The CPU build for this project's CI machine (installed from a local file there).
# With a GPU, install a CUDA build of torch into $(VENV) first, then `make TORCH_SPEC= ...`.
TORCH_SPEC ?= torch==2.13.0
STAMP := $(VENV)/.installed
DEMO_OUT ?= demo-out
PYTEST_ARGS ?=

.PHONY: all demo demo-data test test-fast test-galaxy galaxy-install bench clean system-deps

all: test

# bedtools and vsearch are needed, bcftools and tabix too (the score-variants tests read its VCF with
# them); Debian's postgresql (its server binaries are not on PATH) is for
# the tests of Optuna studies shared on PostgreSQL, which are skipped without it (but fail in CI).
system-deps:
	@missing=""; for b in bedtools vsearch bcftools tabix; do command -v $$b >/dev/null || missing="$$missing $$b"; done; \
	pg=""; ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || pg=" postgresql"; \
	if [ -n "$$missing$$pg" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing$$missing$$pg with apt-get"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq$$missing$$pg >/dev/null; \
	  elif [ -n "$$missing" ]; then \
	    echo "Missing:$$missing. Install them first, e.g. 'sudo apt-get install$$missing' or 'conda install -c bioconda$$missing'."; exit 1; \
	  else \
	    echo "Note: PostgreSQL is not installed ('sudo apt-get install postgresql'); its tests will be skipped."; \
	  fi; \
	fi

$(STAMP): setup.cfg pyproject.toml | system-deps
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	if [ -n "$(TORCH_SPEC)" ]; then $(PY) -m pip install -q "$(TORCH_SPEC)"; fi
	$(PY) -m pip install -q -e '.[test,bigwig,postgres]'
	touch $@

install: $(STAMP)

demo-data: $(STAMP)
	$(PY) -m enhancer_tools.demo --out $(DEMO_OUT)/data --seed 1

demo: $(STAMP) system-deps
	PATH="$(abspath $(VENV))/bin:$$PATH" bash scripts/run-demo.sh $(DEMO_OUT)

test: $(STAMP) system-deps
	cd $(CURDIR) && $(VENV)/bin/lint-imports
	$(PY) -m pytest $(PYTEST_ARGS)

test-fast: $(STAMP)
	$(PY) -m pytest -m "not slow and not realdata" $(PYTEST_ARGS)

test-galaxy: $(STAMP)
	ENHANCER_BIN=$(abspath $(VENV))/bin bash galaxy/test-in-galaxy.sh

# Galaxy's and planemo's venvs alone (test-galaxy installs them too when missing)
galaxy-install:
	bash galaxy/test-in-galaxy.sh --install-only

clean:
	rm -rf $(DEMO_OUT) build dist src/*.egg-info .pytest_cache
