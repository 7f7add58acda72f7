# Sourced by every project script: puts a project-local Node 24 first on PATH (the system Node is
# left alone) and installs the npm dependencies when package-lock.json changed since the last install.
# Downloads are cached by npm in ~/.npm; nothing here depends on that cache being present.
# For scripts only: it turns on `set -euo pipefail`. In your own terminal use scripts/dev-env.sh instead.
set -euo pipefail
PROJECT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
NODE_MAJOR=24
TOOLS_DIR="$PROJECT_ROOT/.tools"

ensure_node() {
  local node_bin="$TOOLS_DIR/node_modules/node/bin"
  if [[ ! -x "$node_bin/node" ]] || [[ "$("$node_bin/node" --version)" != v${NODE_MAJOR}.* ]]; then
    echo "Installing Node ${NODE_MAJOR} into .tools/ (from the npm registry) ..." >&2
    mkdir -p "$TOOLS_DIR"
    npm install --no-save --no-audit --no-fund --loglevel=error --prefix "$TOOLS_DIR" "node@${NODE_MAJOR}" >&2
  fi
  export PATH="$node_bin:$PROJECT_ROOT/node_modules/.bin:$PATH"
}

ensure_deps() {
  local stamp="$PROJECT_ROOT/node_modules/.install-stamp"
  if [[ ! -f "$stamp" ]] || ! cmp -s "$PROJECT_ROOT/package-lock.json" "$stamp"; then
    echo "Installing npm dependencies ..." >&2
    (cd "$PROJECT_ROOT" && npm ci --no-audit --no-fund --loglevel=error >&2)
    cp "$PROJECT_ROOT/package-lock.json" "$stamp"
  fi
}

ensure_node
ensure_deps
