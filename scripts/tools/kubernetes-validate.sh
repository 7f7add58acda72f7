#!/usr/bin/env bash
# Installs kubernetes-validate (PyPI; ships the Kubernetes JSON schemas, strict variants included, so
# rendered manifests validate offline); prints the path of its command.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/py-tool.sh"
py_tool_install kubernetes-validate "kubernetes-validate==${KUBERNETES_VALIDATE_VERSION:-1.37.0}" kubernetes-validate
