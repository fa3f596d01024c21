# Everything installs itself: `make demo` and `make test` work on a fresh machine with Python 3.11+.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
LOCK   := requirements/test.lock
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml sandbox/pyproject.toml $(LOCK) | cksum | cut -d' ' -f1)

.PHONY: install lock controlplane tools test unit demo bench crds check-crds lint kind-up kind-down kind-test clean

# The operator (its wheel holds only the `vigil` package) and, beside it, the test bed (`sandbox/`),
# at the versions and hashes the lock pins: every machine installs the same bytes. The two projects
# themselves go in without build isolation, so that the build backend is the locked setuptools too.
$(STAMP): pyproject.toml sandbox/pyproject.toml $(LOCK)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	PYTHONWARNINGS="ignore:Editable installation" \
	  $(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e '.[test]' -e ./sandbox
	@rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

## Pin every dependency anew, with hashes, after a change to a pyproject.toml: requirements/runtime.lock
## (the image) and requirements/test.lock (`make install`, CI). tests/unit/test_lock.py says when it is due.
UV_COMPILE = $(BIN)/uv pip compile --quiet --generate-hashes --universal --python-version 3.11 \
	--no-emit-package vigil --no-emit-package vigil-sandbox --custom-compile-command "make lock"
lock:
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@test -x $(BIN)/uv || $(BIN)/python -m pip install --quiet uv
	$(UV_COMPILE) requirements/runtime.in -o requirements/runtime.lock
	$(UV_COMPILE) requirements/test.in -o requirements/test.lock

## etcd, kube-apiserver and kubectl, built once from their Go modules into ~/.cache/vigil/controlplane
## (9 to 11 minutes on a fresh machine with two cores). KUBEBUILDER_ASSETS=<folder with the three> skips the build.
controlplane:
	@if [ -n "$$KUBEBUILDER_ASSETS" ]; then echo "controlplane: using KUBEBUILDER_ASSETS=$$KUBEBUILDER_ASSETS"; \
	else ./sandbox/controlplane/build.sh >/dev/null; fi

## Go tools the tests use, built once from their pinned Go modules into ~/.cache/vigil/tools:
## promtool (tests/monitoring; 7 to 16 minutes on a fresh machine with two cores) and helm
## (tests/helm; about 3 minutes once the control plane's Kubernetes modules are in Go's cache).
## And the AWS CLI v1 in .venv-awscli (pinned, its own botocore), whose `cloudtrail validate-logs`
## tests/aws and `make bench` hold `vigil verify-trail` against.
tools: install
	./sandbox/tools/build-promtool.sh >/dev/null
	./sandbox/tools/build-helm.sh >/dev/null
	$(BIN)/python -c "from vigil_sandbox.integrity_bench import awscli; raise SystemExit(awscli() is None)"

## The whole suite: architecture contracts, unit, AWS sandbox, end-to-end (kind tests skip without Docker).
## Test files run on TEST_WORKERS processes, each file on one (an e2e module owns its stack and each
## worker its control plane). The end-to-end tests mostly wait on the operator and AWS's answers,
## so more workers than cores pay even on two cores (measured: 3 workers 8m04s against 12m38s for
## 2; with issue 17's tests, 4 workers 11m06s against 11m30s for 3; after issue 18's per-call CPU
## cuts, 4 workers 9m26s). The slowest tests are listed at the end.
TEST_WORKERS ?= 4
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
