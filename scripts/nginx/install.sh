#!/usr/bin/env bash
# Installs nginx (Debian's nginx-light) for the benchmark's `nginx` contender: a standard
# streaming reverse proxy in front of the processor, the yardstick for the router's hop.
# Idempotent and quiet: does nothing when nginx is already there. Needs root (or sudo).
# Nothing is started or enabled: the benchmark runs its own nginx with its own config.
set -euo pipefail
command -v nginx >/dev/null 2>&1 && exit 0

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=(sudo -n); else
    echo "nginx/install.sh: must run as root (or with sudo)" >&2; exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
echo "nginx/install.sh: installing nginx-light ..." >&2
# policy-rc.d 101: Debian's maintainer scripts must not start the packaged service
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$policy" >/dev/null && "${SUDO[@]}" chmod +x "$policy" && created_policy=1
fi
status=0
{ "${SUDO[@]}" apt-get update -qq && "${SUDO[@]}" apt-get install -y -qq --no-install-recommends nginx-light; } >"$out" 2>&1 || status=$?
[ "$created_policy" = 1 ] && "${SUDO[@]}" rm -f "$policy"
if [ "$status" -ne 0 ]; then tail -n 30 "$out" >&2; echo "nginx/install.sh: apt-get failed" >&2; exit 1; fi
command -v nginx >/dev/null 2>&1 || { tail -n 30 "$out" >&2; echo "nginx/install.sh: installed but nginx is missing" >&2; exit 1; }
echo "nginx/install.sh: installed $(nginx -v 2>&1)" >&2
