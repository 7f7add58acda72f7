# For your own interactive shell (bash or zsh):   source scripts/dev-env.sh
# Puts the project's Node 24 (.tools/) and node_modules/.bin first on PATH, installing them first when
# missing or stale, exactly as the project's scripts do. Unlike scripts/lib/env.sh (for scripts: it turns
# on `set -euo pipefail`, which in an interactive shell closes the terminal at the next failing command),
# this changes nothing in your shell but PATH: no shell options, no variables, no functions.
# A single command instead: scripts/dev-shell npm run check   (no arguments: a subshell with that PATH).
__odc_root="$(cd "$(dirname "${BASH_SOURCE[0]:-${(%):-%x}}")/.." && pwd)"
# The install runs in a child bash, where env.sh's strict options are what we want.
if bash -c 'source "$1/scripts/lib/env.sh"' _ "$__odc_root"; then
  case ":$PATH:" in
    *":$__odc_root/.tools/node_modules/node/bin:"*) ;;
    *) PATH="$__odc_root/.tools/node_modules/node/bin:$__odc_root/node_modules/.bin:$PATH" ;;
  esac
  export PATH
  unset __odc_root
else
  echo "dev-env: installing Node 24 / the npm dependencies failed (see above); PATH unchanged" >&2
  unset __odc_root
  false
fi
