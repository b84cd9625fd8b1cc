# Everything the project needs goes into a local virtual environment (.venv),
# installed from the package registries. Nothing depends on what is installed by hand.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: venv test reliability demo check-config clean

venv: $(STAMP)

# Reinstall when the dependency list changes.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,emulator]'
	touch $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The crash, fault, outage, bad-input, disk and fuzz suites at full size (they run small in
# `make test`): 50 kills over 200 files, 500 files through server faults, a 5-minute outage,
# 5000 mutated files. Prints the table of figures the README reports.
RELIABILITY := tests/e2e/test_crash.py tests/e2e/test_faults.py tests/e2e/test_outage.py \
	tests/e2e/test_bad_input.py tests/e2e/test_ledger_disk.py tests/e2e/test_secrets.py \
	tests/test_probe_fuzz.py tests/test_ledger_states.py
reliability: $(STAMP)
	rm -f reliability-figures.jsonl
	MAVI_RELIABILITY=full MAVI_FIGURES=$(CURDIR)/reliability-figures.jsonl \
		$(BIN)/python -m pytest -q -p no:randomly $(RELIABILITY)
	$(BIN)/python -m tests.e2e.figures reliability-figures.jsonl

# Installs, starts the emulator, makes a sample folder, runs the daemon, adds files while
# it runs, and shows `mavi-sync status` with everything confirmed.
demo: $(STAMP)
	$(BIN)/python -m mavi_sync.demo

check-config: $(STAMP)
	$(BIN)/mavi-sync check-config config.example.toml

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .demo
