# Two commands set everything up on a fresh machine: `make demo` and `make test` (`make test-cluster` runs the rest).
PYTHON ?= python3
VENV   := .venv
PYTEST_ARGS ?= -q
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: install test test-cluster demo bench lint clean

# Reports draw Chinese with a CJK font from Debian (charts and the embedded PDF font).
CJK_FONT := /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc
SUDO     := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

$(CJK_FONT):
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq fonts-wqy-zenhei

# The web desk's browser tests drive Debian's Chromium (no browser download at run time).
CHROMIUM := /usr/bin/chromium

$(CHROMIUM):
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium

$(STAMP): pyproject.toml | $(CJK_FONT)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# -n auto: one test process per core (pytest-xdist); each loads the models once. Every test but the cluster's.
test: $(STAMP) | $(CHROMIUM)
	$(PY) -m pytest -n auto -m "not cluster" $(PYTEST_ARGS)

# The cluster tests: real Redis, RabbitMQ and yuqing worker/scheduler processes, SIGKILLed and restarted. They
# share the brokers, so they run one at a time in one process (-n 0); .ci/run starts the brokers first.
test-cluster: $(STAMP)
	$(PY) -m pytest -n 0 -m cluster $(PYTEST_ARGS)

demo: $(STAMP)
	$(VENV)/bin/yuqing demo

# ruff (the configured rules, import order) and mypy --strict on the packages (configured in pyproject.toml)
lint: $(STAMP)
	$(PY) -m pip install --quiet -e '.[lint]'
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

bench: $(STAMP)
	$(PY) -m pip install --quiet -e '.[bench]'
	$(PY) -m bench

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache var
