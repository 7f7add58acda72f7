#!/usr/bin/env bash
# Installs helm (the chart's lint/template checks) from the Go module proxy; prints the binary's path.
#   scripts/tools/helm.sh            → .tools/go/helm@v3.22.0-…/helm
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/go-tool.sh"
version="${HELM_VERSION:-v3.22.0}"
# What helm's own release build links in (its Makefile): its version, and the Kubernetes version it
# assumes without a cluster (client-go's minor + 1.x; v3.22 uses client-go v0.37). A plain `go install`
# leaves helm at Kubernetes v1.20, where `helm install --dry-run` refuses charts needing newer.
kube_minor="${HELM_KUBE_MINOR:-37}"
ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$version"
for pkg in helm.sh/helm/v3/pkg/chartutil helm.sh/helm/v3/pkg/lint/rules; do
  ldflags="$ldflags -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$kube_minor"
done
go_tool_install helm helm.sh/helm/v3/cmd/helm "$version" "$ldflags"
