# Everything the project needs goes into a local virtual environment (.venv),
# installed from the package registries. Nothing depends on what is installed by hand.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: venv test demo check-config clean

venv: $(STAMP)

# Reinstall when the dependency list changes.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,emulator]'
	touch $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Installs, starts the emulator, makes a sample folder, runs the daemon, adds files while
# it runs, and shows `mavi-sync status` with everything confirmed.
demo: $(STAMP)
	$(BIN)/python -m mavi_sync.demo

check-config: $(STAMP)
	$(BIN)/mavi-sync check-config config.example.toml

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .demo
