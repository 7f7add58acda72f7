#!/usr/bin/env bash
# Installs helm (the chart's lint/template checks) from the Go module proxy; prints the binary's path.
#   scripts/tools/helm.sh            → .tools/go/helm@v3.22.0/helm
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/go-tool.sh"
go_tool_install helm helm.sh/helm/v3/cmd/helm "${HELM_VERSION:-v3.22.0}"
