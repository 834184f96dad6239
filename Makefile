# Two commands do all set-up on a fresh machine (README "Set-up"):
#   make lab    opens the tutorials in JupyterLab
#   make test   runs the whole test suite (unit, widget, notebook, packaging and browser tests)
# Both create .venv from requirements-dev.txt (CPU torch through constraints-cpu.txt) first.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
CHROMIUM ?= /usr/bin/chromium
PYTEST_ARGS ?=

.PHONY: lab test venv browser clean

venv: $(STAMP)

$(STAMP): pyproject.toml requirements-dev.txt constraints-cpu.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -r requirements-dev.txt
	touch $(STAMP)

# Debian's Chromium for the browser tests (playwright never downloads a browser here).
browser:
	@if [ -x "$(CHROMIUM)" ]; then echo "chromium: $(CHROMIUM)"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
	elif command -v sudo >/dev/null && command -v apt-get >/dev/null; then \
	  sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
	else echo "chromium not found and cannot be installed here: browser tests will skip"; fi

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/00_tour.ipynb

test: $(STAMP) browser
	$(BIN)/python -m pytest tests notebooks --nbval-lax --nbval-current-env -p no:cacheprovider $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache dist build
