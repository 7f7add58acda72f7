# Sourced by the Go-built tool installers (helm.sh): `go_tool_install NAME MODULE/PATH VERSION [LDFLAGS]`
# builds one command from the Go module proxy into .tools/go/NAME@VERSION[-FLAGSUM]/ and prints the
# binary's path. Idempotent: a binary already built for that version and those link flags is reused. The
# module and build caches live in .cache/go (they only speed up a rebuild; deleting .cache/ costs time,
# never correctness).
# Deliberately no `set -euo pipefail` here: the sourcing script decides its own shell options.

go_tool_install() {
  local name=$1 package=$2 version=$3 ldflags=${4:-}
  local root
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  local key="$name@$version"
  [[ -n $ldflags ]] && key="$key-$(printf '%s' "$ldflags" | cksum | cut -d' ' -f1)"
  local bin_dir="$root/.tools/go/$key"
  local binary="$bin_dir/$name"
  if [[ ! -x "$binary" ]]; then
    if ! command -v go >/dev/null 2>&1; then
      echo "$name: the Go toolchain (go) is needed to build $package@$version from the Go module proxy" >&2
      return 1
    fi
    echo "Building $name $version from the Go module proxy (first time only; a few minutes) ..." >&2
    mkdir -p "$bin_dir" "$root/.cache/go"
    # A private GOPATH keeps the user's ~/go untouched; CGO off gives a static binary and needs no C compiler;
    # GOTOOLCHAIN=local never fetches another Go toolchain behind the user's back; the user's GOFLAGS are not ours.
    GOPATH="$root/.cache/go" GOMODCACHE="$root/.cache/go/mod" GOCACHE="$root/.cache/go/build" \
      GOBIN="$bin_dir.partial.$$" CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS= \
      go install -trimpath -ldflags "$ldflags" "$package@$version" >&2 || { rm -rf "$bin_dir.partial.$$"; return 1; }
    # Move into place only once complete, so an interrupted build is never mistaken for an installed tool.
    mv "$bin_dir.partial.$$/$name" "$binary"
    rm -rf "$bin_dir.partial.$$"
  fi
  echo "$binary"
}
