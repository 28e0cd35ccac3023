#!/usr/bin/env bash
# Installs Debian's Chromium for the web page's browser tests (driven by playwright-core, which
# downloads no browser of its own). Idempotent and quiet: does nothing when /usr/bin/chromium is
# there. Needs root (or sudo). .ci/run calls it; `make test` without it says so and skips the page.
set -euo pipefail
[ -x /usr/bin/chromium ] && exit 0

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=(sudo -n); else
    echo "chromium/install.sh: must run as root (or with sudo)" >&2; exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
echo "chromium/install.sh: installing chromium ..." >&2
status=0
{ "${SUDO[@]}" apt-get update -qq && "${SUDO[@]}" apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core; } >"$out" 2>&1 || status=$?
if [ "$status" -ne 0 ]; then tail -n 30 "$out" >&2; echo "chromium/install.sh: apt-get failed" >&2; exit 1; fi
[ -x /usr/bin/chromium ] || { tail -n 30 "$out" >&2; echo "chromium/install.sh: installed but /usr/bin/chromium is missing" >&2; exit 1; }
echo "chromium/install.sh: installed $(/usr/bin/chromium --version 2>/dev/null)" >&2
