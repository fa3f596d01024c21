# Everything installs itself: `make demo` and `make test` work on a fresh machine with Python 3.11+.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: install test unit demo bench crds check-crds lint kind-up kind-down kind-test clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

## The whole suite: architecture contracts, unit, AWS sandbox, end-to-end (kind tests skip without Docker).
## Test files run on TEST_WORKERS processes, each file on one (an e2e module owns its stack): the
## end-to-end tests mostly wait on the operator, so two workers halve the time on two cores.
TEST_WORKERS ?= 2
test: install
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist loadfile

unit: install
	$(BIN)/python -m pytest -q tests/unit

## The real operator reconciling examples/ on the embedded emulators; prints statuses and AWS evidence.
demo: install
	$(BIN)/python -m vigil.sandbox.demo

## Figures, not assertions: calls per steady-state resync, operator memory, integrity verification rate.
bench: install
	$(BIN)/python -m vigil.sandbox.bench

crds: install
	$(BIN)/vigil crds

check-crds: install
	$(BIN)/vigil crds --check

## A real cluster (needs Docker and kind): create it, load CRDs, run the kind end-to-end tests.
kind-up: install
	./tests/kind/kind-up.sh

kind-test: install
	VIGIL_KIND=1 $(BIN)/python -m pytest -q tests/kind

kind-down:
	kind delete cluster --name vigil || true

clean:
	rm -rf $(VENV) .demo build *.egg-info
