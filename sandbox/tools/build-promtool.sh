#!/usr/bin/env bash
# Builds promtool (github.com/prometheus/prometheus/cmd/promtool) from the Go module proxy into a
# cache outside the work tree, for tests/monitoring (rule checks, rule unit tests, dashboard PromQL).
#
#   build-promtool.sh [DEST]     build DEST/promtool unless it is there, print its path (default
#                                DEST: ${VIGIL_TOOLS_CACHE:-~/.cache/vigil/tools}/promtool-<version>)
#   build-promtool.sh --version  print the pinned Prometheus release
#
# Prometheus publishes its Go module as v0.<major*100+minor>.<patch>: v0.316.0 is Prometheus 3.16.0.
# The build runs inside the module as the proxy serves it, so its own go.mod and go.sum pin every
# dependency (`-mod=readonly`: nothing is resolved anew, nothing upgraded).
set -euo pipefail
PROMETHEUS_MODULE_VERSION=v0.316.0
PROMETHEUS_VERSION=3.16.0
# GOWORK=off: the module ships a go.work naming sub-modules the proxy's zip leaves out.
export GOTOOLCHAIN=local GOFLAGS=-mod=readonly GOWORK=off CGO_ENABLED=0

say() { echo "promtool: $*" >&2; }

build() {
  local dest=$1 started src total
  mkdir -p "$dest"
  # Two test workers may ask at once: the second waits, then finds the binary.
  exec 9>"$dest/.lock"
  flock 9
  if [ -x "$dest/promtool" ]; then echo "$dest/promtool"; return; fi
  if ! command -v go >/dev/null; then
    say "Go is not installed. Install Go >= 1.26.7 (https://go.dev/dl/) to build promtool,"
    say "or put a promtool on PATH (Debian: apt-get install prometheus)."
    exit 3
  fi
  started=$(date +%s)
  say "downloading github.com/prometheus/prometheus@$PROMETHEUS_MODULE_VERSION from the Go module proxy ..."
  src=$(GOFLAGS=-mod=mod go mod download -json "github.com/prometheus/prometheus@$PROMETHEUS_MODULE_VERSION" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
  say "fetching the modules cmd/promtool imports (not all of Prometheus's) ..."
  total=$(cd "$src" && go list -deps ./cmd/promtool | wc -l)
  say "building promtool $PROMETHEUS_VERSION into $dest: up to $total packages: 7 minutes on 2 cores, 16 with empty Go caches ..."
  # -v names each package as it compiles (cached ones are not): a count every 50 is the progress,
  # the log keeps the rest.
  if ! (cd "$src" && go build -v -trimpath \
      -ldflags "-s -w -X github.com/prometheus/common/version.Version=$PROMETHEUS_VERSION" \
      -o "$dest/promtool.part" ./cmd/promtool) 2>&1 | tee "$dest/build.log" |
      awk '++n % 50 == 0 { print "promtool: " n " packages compiled"; fflush() }' >&2; then
    say "build failed; the end of $dest/build.log:"
    tail -n 30 "$dest/build.log" >&2
    exit 1
  fi
  mv "$dest/promtool.part" "$dest/promtool"
  say "built promtool $PROMETHEUS_VERSION in $(( $(date +%s) - started ))s"
  echo "$dest/promtool"
}

case "${1:-}" in
  --version) echo "$PROMETHEUS_VERSION" ;;
  *) build "${1:-${VIGIL_TOOLS_CACHE:-$HOME/.cache/vigil/tools}/promtool-$PROMETHEUS_VERSION}" ;;
esac
