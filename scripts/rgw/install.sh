#!/usr/bin/env bash
# Installs the Debian packages for the throwaway single-node Ceph RADOS Gateway that
# scripts/rgw/start.sh runs (radosgw, ceph-mon, ceph-osd; about 60 MB, ~30-40 s).
# Idempotent and quiet: does nothing when they are already installed. Needs root (or
# sudo). The packages start and enable nothing by themselves.
set -euo pipefail

have_all() {
  local b
  for b in radosgw radosgw-admin ceph-mon ceph-osd ceph ceph-authtool monmaptool; do
    command -v "$b" >/dev/null 2>&1 || return 1
  done
}
have_all && exit 0

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=(sudo -n); else
    echo "rgw/install.sh: must run as root (or with sudo)" >&2; exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
echo "rgw/install.sh: installing radosgw ceph-mon ceph-osd ..." >&2
if ! { "${SUDO[@]}" apt-get update -qq &&
       "${SUDO[@]}" apt-get install -y -qq --no-install-recommends radosgw ceph-mon ceph-osd; } \
     >"$out" 2>&1; then
  tail -n 30 "$out" >&2
  echo "rgw/install.sh: apt-get failed" >&2
  exit 1
fi
have_all || { tail -n 30 "$out" >&2; echo "rgw/install.sh: packages installed but tools missing" >&2; exit 1; }
echo "rgw/install.sh: installed $(radosgw --version 2>/dev/null | head -n 1)" >&2
