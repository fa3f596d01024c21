#!/usr/bin/env bash
# Health of every recorded state (tests/states/) as kstatus and Flux compute it: `go test` of this
# module, with its modules and build cache outside the work tree. Arguments go to `go test`:
#
#   tests/kstatus/run.sh                 # what `make test` runs (through test_kstatus_go.py)
#   tests/kstatus/run.sh -v -run Flux    # one test, verbosely
#
# The first run downloads the modules (about 400 MB) and compiles the Kubernetes and CEL packages
# kstatus and Flux's evaluator use: about 4.5 minutes on two cores; later runs take seconds.
set -euo pipefail
cd "$(dirname "$0")"
CACHE=${VIGIL_GO_CACHE:-$HOME/.cache/vigil/go}
export GOTOOLCHAIN=local GOFLAGS=-mod=mod GOMODCACHE="$CACHE/mod" GOCACHE="$CACHE/build"
if ! command -v go >/dev/null; then
  echo "kstatus: Go is not installed (Go >= 1.26 runs tests/kstatus)" >&2
  exit 3
fi
exec go test "$@" ./...
