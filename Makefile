# Everything installs itself: `make demo` and `make test` work on a fresh machine with Python 3.11+.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml sandbox/pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: install controlplane tools test unit demo bench crds check-crds lint kind-up kind-down kind-test clean

# The operator (its wheel holds only the `vigil` package) and, beside it, the test bed (`sandbox/`).
$(STAMP): pyproject.toml sandbox/pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]' -e ./sandbox
	@rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

## etcd, kube-apiserver and kubectl, built once from their Go modules into ~/.cache/vigil/controlplane
## (9 to 11 minutes on a fresh machine with two cores). KUBEBUILDER_ASSETS=<folder with the three> skips the build.
controlplane:
	@if [ -n "$$KUBEBUILDER_ASSETS" ]; then echo "controlplane: using KUBEBUILDER_ASSETS=$$KUBEBUILDER_ASSETS"; \
	else ./sandbox/controlplane/build.sh >/dev/null; fi

## Go tools the tests use, built once from their pinned Go modules into ~/.cache/vigil/tools:
## promtool (tests/monitoring; 7 to 16 minutes on a fresh machine with two cores).
tools:
	./sandbox/tools/build-promtool.sh >/dev/null

## The whole suite: architecture contracts, unit, AWS sandbox, end-to-end (kind tests skip without Docker).
## Test files run on TEST_WORKERS processes, each file on one (an e2e module owns its stack and each
## worker its control plane). The end-to-end tests mostly wait on the operator and AWS's answers,
## so three workers beat two even on two cores (measured: 8m04s against 12m38s). The slowest tests
## are listed at the end.
TEST_WORKERS ?= 3
test: install controlplane tools
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist loadfile --durations=12

unit: install
	$(BIN)/python -m pytest -q tests/unit

## The real operator reconciling examples/ on the embedded stand-ins; prints statuses and AWS evidence.
demo: install controlplane
	$(BIN)/python -m vigil_sandbox.demo

## Figures, not assertions: calls per steady-state resync, operator memory, integrity verification rate.
bench: install controlplane
	$(BIN)/python -m vigil_sandbox.bench

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
