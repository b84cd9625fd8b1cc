# Everything the project needs goes into a local virtual environment (.venv),
# installed from the package registries. Nothing depends on what is installed by hand.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: lock venv test test-tools reliability soak bench bench-tools profile demo docs check-config image image-test image-tools clean

venv: $(STAMP)

# Reinstall when the dependency list or the lock changes. Every install takes the locked
# versions (requirements.lock, as pip constraints; PIP_CONSTRAINT reaches the build backend's
# isolated environment too), so `make test` gives the same result next month.
LOCK   := $(CURDIR)/requirements.lock
EXTRAS := test,emulator,bench,fleet
$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	PIP_CONSTRAINT=$(LOCK) $(BIN)/python -m pip install --quiet --upgrade pip
	PIP_CONSTRAINT=$(LOCK) $(BIN)/python -m pip install --quiet -e '.[$(EXTRAS)]'
	touch $(STAMP)

# Moves the lock on purpose: the newest releases within pyproject.toml's ranges, resolved in
# a throw-away environment; then `make test` (which reinstalls) says whether they still hold.
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet --upgrade pip setuptools wheel
	.lock-venv/bin/python -m pip install --quiet '.[$(EXTRAS)]'
	{ grep '^#' requirements.lock; .lock-venv/bin/python -m pip freeze --all | grep -v -i '^mavi.sync'; } \
	  > requirements.lock.new && mv requirements.lock.new requirements.lock
	rm -rf .lock-venv

# Two workers, each taking whole test modules (a module's daemons and fixtures stay together).
# As root, the container image's tests run too (tests/image; podman installed by image-tools).
PYTEST_ARGS ?= -n 2 --dist loadfile
test: $(STAMP) test-tools image-tools
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The fleet tests need a real PostgreSQL, the status page's browser test Debian's Chromium
# (driven by Playwright, whose own browser download is never used): installed when missing and
# this is root; elsewhere those tests skip and say why.
test-tools:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || \
	  { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; } || \
	  echo "test: no PostgreSQL server binaries: the fleet tests will skip"
	@command -v chromium >/dev/null 2>&1 || \
	  { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
	  echo "test: no chromium: the status page's browser test will skip"

# The crash, fault, outage, bad-input, disk and fuzz suites at full size (they run small in
# `make test`): 50 kills over 200 files, 500 files through server faults, a 5-minute outage,
# 5000 mutated files. Prints the table of figures the README reports.
RELIABILITY := tests/e2e/test_crash.py tests/e2e/test_faults.py tests/e2e/test_outage.py \
	tests/e2e/test_bad_input.py tests/e2e/test_ledger_disk.py tests/e2e/test_secrets.py \
	tests/media/test_probe_fuzz.py tests/ledger/test_machine.py
reliability: $(STAMP)
	rm -f reliability-figures.jsonl
	MAVI_RELIABILITY=full MAVI_FIGURES=$(CURDIR)/reliability-figures.jsonl \
		$(BIN)/python -m pytest -q -p no:randomly $(RELIABILITY)
	$(BIN)/python -m tests.e2e.figures reliability-figures.jsonl

# A day in the life at full size (tests/e2e/test_day.py, which runs one small day of each
# in `make test`): the box's day again and again for two thirds of SOAK_MINUTES, then the
# two-node fleet's, with minute-long outages, closed windows and full disks. About an hour;
# prints the figures (soak-figures.jsonl keeps them), also when a promise broke.
SOAK_MINUTES ?= 60
soak: $(STAMP) test-tools
	rm -f soak-figures.jsonl
	MAVI_SOAK=full MAVI_SOAK_MINUTES=$(SOAK_MINUTES) MAVI_FIGURES=$(CURDIR)/soak-figures.jsonl \
		$(BIN)/python -m pytest -q -s -p no:randomly tests/e2e/test_day.py tests/e2e/test_day_fleet.py; status=$$?; \
	$(BIN)/python -m tests.e2e.figures soak-figures.jsonl; exit $$status

# Every performance figure against its reference in the same run (curl, sha256sum, find,
# the settle time, the emulator's rate limit), medians with min and max over 3 runs; about
# 20 minutes on 2 cores. Writes bench/results.json. BENCH_ARGS="--quick" for a smoke run,
# BENCH_ARGS="--only restart,idle" for some figures.
bench: $(STAMP) bench-tools
	$(BIN)/python -m bench $(BENCH_ARGS)

# The reference tools the conversion figures compare against, from Debian's packages:
# installed when missing and this is root; else those figures measure mavi-sync alone and say so.
bench-tools:
	@command -v heif-convert >/dev/null && command -v ffmpeg >/dev/null || \
	  { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libheif-examples ffmpeg >/dev/null; } || \
	  echo "bench: heif-convert or ffmpeg missing: the conversion figures measure mavi-sync alone"

# The daemon under py-spy through one slow path: PROFILE=restart (default), first or upload.
PROFILE ?= restart
profile: $(STAMP)
	$(BIN)/python -m bench.profile $(PROFILE)

# Installs, starts the emulator, makes a sample folder, runs the daemon, adds files while
# it runs, and shows `mavi-sync status` with everything confirmed.
demo: $(STAMP)
	$(BIN)/python -m mavi_sync.dev.demo

# The reference pages generated from the config parser and the argument parser
# (docs/reference/config.md, commands.md); tests/test_docs.py fails when they are stale.
docs: $(STAMP)
	$(BIN)/python -m mavi_sync.dev.reference

# The container image (Containerfile; docs/guides/container.md). IMAGE_BASE is the base image:
# an official slim Python by default; the image tests use one made here with debootstrap.
# The host's CA bundle goes to pip as a build secret (a TLS-inspecting proxy's CA), never
# into a layer. ENGINE=docker works too (BuildKit, for the secret and cache mounts);
# IMAGE_FLAGS adds the engine's own flags (e.g. --network=host, --no-cache).
ENGINE     ?= podman
IMAGE      ?= localhost/mavi-sync:latest
IMAGE_BASE ?= python:3.11-slim
IMAGE_CA   ?= /etc/ssl/certs/ca-certificates.crt
IMAGE_FLAGS ?=
comma      := ,
image:
	$(ENGINE) build -f Containerfile $(if $(filter podman,$(notdir $(ENGINE))),--format docker) --build-arg BASE=$(IMAGE_BASE) \
	  $(if $(wildcard $(IMAGE_CA)),--secret id=cacert$(comma)src=$(IMAGE_CA)) $(IMAGE_FLAGS) -t $(IMAGE) .

# The image against the emulator on this host (tests/image): a file confirmed, a restart
# that sends nothing again, a kill mid-upload that loses nothing, status through exec. Makes
# its Debian base with debootstrap, cached in /var/tmp/mavi-image-base (the first run takes
# a minute more). Needs root and podman; skips and says why elsewhere.
image-test: $(STAMP) image-tools
	$(BIN)/python -m pytest -q -p no:randomly tests/image

# podman, runc and debootstrap from Debian's packages, installed when missing and this is root.
image-tools:
	@command -v podman >/dev/null && command -v runc >/dev/null && command -v debootstrap >/dev/null || \
	  { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman runc uidmap slirp4netns passt \
	      fuse-overlayfs debootstrap >/dev/null; } || \
	  echo "image-test: podman, runc or debootstrap missing and not root: the image tests will skip"

check-config: $(STAMP)
	$(BIN)/mavi-sync check-config config.example.toml

clean:
	rm -rf $(VENV) .lock-venv build *.egg-info .pytest_cache .demo
