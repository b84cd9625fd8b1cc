# Everything the project needs goes into a local virtual environment (.venv),
# installed from the package registries. Nothing depends on what is installed by hand.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: venv test check-config clean

venv: $(STAMP)

# Reinstall when the dependency list changes.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,emulator]'
	touch $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

check-config: $(STAMP)
	$(BIN)/mavi-sync check-config config.example.toml

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
