#!/usr/bin/env bash
# Installs Prometheus and promtool from Debian's `prometheus` package (the alert rule checks, the
# dashboard expression check and the scrape integration test); prints the directory holding both:
#   "$(scripts/tools/prometheus.sh)/promtool" check rules helm/onedrive-connector/files/prometheus-rules.yaml
# Idempotent. The package is downloaded with apt (never installed system-wide: no service is started)
# and unpacked into .tools/prometheus/<version>/; the .deb is kept in .cache/apt/. Needs a Debian or
# Ubuntu machine; `apt-get update` runs (as root, or through sudo) only when apt knows no candidate yet.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
log() { echo "prometheus.sh: $*" >&2; }

as_root() {
  if [[ $(id -u) == 0 ]]; then "$@"; elif command -v sudo >/dev/null; then sudo -n "$@"; else
    log "need root (or sudo) for: $*"
    return 1
  fi
}

candidate() { apt-cache policy prometheus 2>/dev/null | sed -n 's/^ *Candidate: *//p' | grep -v '(none)' || true; }

command -v apt-get >/dev/null || { log "apt-get not found: this installer needs Debian or Ubuntu"; exit 1; }
# Test files run in parallel and may all call this on a fresh machine: one installs, the others wait.
mkdir -p "$ROOT/.cache"
exec 9>"$ROOT/.cache/prometheus.sh.lock"
flock 9
version="${PROMETHEUS_DEB_VERSION:-}"
# A previous unpack is reused as it is, without asking apt (works offline).
if [[ -z "$version" ]]; then
  existing="$(ls -d "$ROOT"/.tools/prometheus/*/usr/bin 2>/dev/null | sort | tail -n 1 || true)"
  if [[ -n "$existing" && -x "$existing/promtool" && -x "$existing/prometheus" ]]; then
    echo "$existing"
    exit 0
  fi
  version="$(candidate)"
  if [[ -z "$version" ]]; then
    log "apt knows no prometheus package yet; running apt-get update"
    as_root apt-get update -qq >&2
    version="$(candidate)"
  fi
  [[ -n "$version" ]] || { log "no prometheus package in the configured apt sources"; exit 1; }
fi
dest="$ROOT/.tools/prometheus/$version"
if [[ ! -x "$dest/usr/bin/promtool" || ! -x "$dest/usr/bin/prometheus" ]]; then
  cache="$ROOT/.cache/apt"
  mkdir -p "$cache"
  deb="$(ls "$cache"/prometheus_"${version//:/%3a}"_*.deb 2>/dev/null | head -n 1 || true)"
  if [[ -z "$deb" ]]; then
    log "Downloading Debian's prometheus $version ..."
    # As root apt would drop to its _apt user, which cannot write into our cache folder.
    sandbox=()
    [[ $(id -u) == 0 ]] && sandbox=(-o APT::Sandbox::User=root)
    (cd "$cache" && apt-get download -qq "${sandbox[@]}" "prometheus=$version" >&2)
    deb="$(ls "$cache"/prometheus_*.deb | head -n 1)"
  fi
  # Unpacked beside, then moved: an interrupted unpack is never mistaken for an installed tool.
  rm -rf "$dest.partial.$$"
  mkdir -p "$dest.partial.$$"
  dpkg-deb -x "$deb" "$dest.partial.$$"
  rm -rf "$dest"
  mv "$dest.partial.$$" "$dest"
fi
"$dest/usr/bin/promtool" --version >/dev/null
echo "$dest/usr/bin"
