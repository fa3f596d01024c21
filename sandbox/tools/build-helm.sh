#!/usr/bin/env bash
# Builds the helm CLI (helm.sh/helm/v4/cmd/helm) from the Go module proxy into a cache outside the
# work tree, for tests/helm (`helm lint`, `helm template` of deploy/helm/vigil).
#
#   build-helm.sh [DEST]     build DEST/helm unless it is there, print its path (default
#                            DEST: ${VIGIL_TOOLS_CACHE:-~/.cache/vigil/tools}/helm-<version>)
#   build-helm.sh --version  print the pinned Helm release
set -euo pipefail
HELM_VERSION=4.3.2
source "$(dirname "$0")/go-build.sh"

case "${1:-}" in
  --version) echo "$HELM_VERSION" ;;
  # Helm's own Makefile sets the version the same way.
  *) go_build helm "helm.sh/helm/v4@v$HELM_VERSION" ./cmd/helm \
       "-X helm.sh/helm/v4/internal/version.version=v$HELM_VERSION" \
       "${1:-${VIGIL_TOOLS_CACHE:-$HOME/.cache/vigil/tools}/helm-$HELM_VERSION}" \
       "about 3 minutes on 2 cores, more with empty Go caches" \
       "put a helm $HELM_VERSION on PATH (https://helm.sh/docs/intro/install/)" ;;
esac
