#!/usr/bin/env bash
# Installs schemathesis (PyPI) into a venv under .tools/ once and prints the path of its CLI.
# Idempotent: a second run with the same version only prints the path. Used by the admin API's
# property-based test (test/integration/admin/openapi-fuzz.test.ts).
set -euo pipefail
VERSION="${SCHEMATHESIS_VERSION:-4.32.5}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="$ROOT/.tools/schemathesis-$VERSION"
CLI="$VENV/bin/schemathesis"
if [[ ! -x "$CLI" ]]; then
  PYTHON="${PYTHON:-python3}"
  "$PYTHON" -m venv "$VENV" >&2
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$VERSION" >&2
fi
echo "$CLI"
