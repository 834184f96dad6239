# Two commands do all set-up on a fresh machine (README "Set-up"):
#   make lab    opens the tutorials in JupyterLab
#   make test   runs the whole test suite (unit, widget, notebook, packaging and browser tests)
# Both create .venv from requirements-dev.txt first.
#
# PyTorch: PyPI's Linux x86_64 torch wheel is the CUDA build (several GB of CUDA libraries).
# When PyTorch's CPU index (TORCH_INDEX) answers a short probe, pip is given it as an extra index
# and torch==2.13.0 resolves to 2.13.0+cpu; when it does not answer (offline machines, mirrors
# only), pip installs whatever its own configuration offers. `make venv TORCH_INDEX=` skips it.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
CHROMIUM ?= /usr/bin/chromium
PYTEST_ARGS ?=
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu
# JupyterLab refuses to run as root (containers, CI images) without --allow-root.
LAB_ARGS ?= $(if $(filter 0,$(shell id -u)),--allow-root)

.PHONY: lab test venv browser clean

venv: $(STAMP)

$(STAMP): pyproject.toml requirements-dev.txt constraints-cpu.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@extra=; \
	if [ -n "$(TORCH_INDEX)" ] && $(BIN)/python -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1].rstrip('/') + '/torch/', timeout=5)" "$(TORCH_INDEX)" >/dev/null 2>&1; then \
	  extra="--extra-index-url $(TORCH_INDEX)"; echo "torch: CPU wheels from $(TORCH_INDEX)"; \
	elif [ -n "$(TORCH_INDEX)" ]; then echo "torch: $(TORCH_INDEX) does not answer; using pip's configured indexes only"; fi; \
	echo "$(BIN)/python -m pip install $$extra -r requirements-dev.txt"; \
	$(BIN)/python -m pip install $$extra -r requirements-dev.txt
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
	$(BIN)/jupyter lab $(LAB_ARGS) notebooks/00_tour.ipynb

test: $(STAMP) browser
	$(BIN)/python -m pytest tests notebooks --nbval-lax --nbval-current-env -p no:cacheprovider $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache dist build
