#!/usr/bin/env bash
# Builds promtool (github.com/prometheus/prometheus/cmd/promtool) from the Go module proxy into a
# cache outside the work tree, for tests/monitoring (rule checks, rule unit tests, dashboard PromQL).
#
#   build-promtool.sh [DEST]     build DEST/promtool unless it is there, print its path (default
#                                DEST: ${VIGIL_TOOLS_CACHE:-~/.cache/vigil/tools}/promtool-<version>)
#   build-promtool.sh --version  print the pinned Prometheus release
#
# Prometheus publishes its Go module as v0.<major*100+minor>.<patch>: v0.316.0 is Prometheus 3.16.0.
set -euo pipefail
PROMETHEUS_MODULE_VERSION=v0.316.0
PROMETHEUS_VERSION=3.16.0
source "$(dirname "$0")/go-build.sh"

case "${1:-}" in
  --version) echo "$PROMETHEUS_VERSION" ;;
  *) go_build promtool "github.com/prometheus/prometheus@$PROMETHEUS_MODULE_VERSION" ./cmd/promtool \
       "-X github.com/prometheus/common/version.Version=$PROMETHEUS_VERSION" \
       "${1:-${VIGIL_TOOLS_CACHE:-$HOME/.cache/vigil/tools}/promtool-$PROMETHEUS_VERSION}" \
       "7 minutes on 2 cores, 16 with empty Go caches" \
       "put a promtool on PATH (Debian: apt-get install prometheus)" ;;
esac
