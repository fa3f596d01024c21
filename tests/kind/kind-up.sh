#!/usr/bin/env bash
# A kind cluster named "vigil" for the kind tests: created unless it exists, the CRDs of crds/
# installed and Established, the namespace "baseline" created. Safe to run again.
set -euo pipefail

CLUSTER=vigil
CONTEXT="kind-${CLUSTER}"
cd "$(dirname "$0")/../.."  # the repository root: crds/ is relative to it

for tool in docker kind kubectl; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "kind-up: $tool is not on PATH (needs docker, kind and kubectl)" >&2
    exit 1
  fi
done
if ! docker info >/dev/null 2>&1; then
  echo "kind-up: no running Docker engine (\`docker info\` failed)" >&2
  exit 1
fi

clusters="$(kind get clusters 2>/dev/null)"
if grep -qx "$CLUSTER" <<<"$clusters"; then
  echo "kind-up: cluster $CLUSTER exists"
  kind export kubeconfig --name "$CLUSTER"  # the kind-vigil context, should the kubeconfig have lost it
else
  kind create cluster --name "$CLUSTER" --wait 120s
fi

kubectl --context "$CONTEXT" apply -k crds/
crds=()
for file in crds/vigil.dev_*.yaml; do  # crds/vigil.dev_orgtrails.yaml holds orgtrails.vigil.dev
  plural="${file#crds/vigil.dev_}"
  crds+=("crd/${plural%.yaml}.vigil.dev")
done
kubectl --context "$CONTEXT" wait --for condition=established --timeout=60s "${crds[@]}"

kubectl --context "$CONTEXT" create namespace baseline --dry-run=client -o yaml \
  | kubectl --context "$CONTEXT" apply -f -
echo "kind-up: context $CONTEXT ready (${#crds[@]} CRDs Established); run \`make kind-test\`"
