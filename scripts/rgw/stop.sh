#!/usr/bin/env bash
# Stops a cluster started by scripts/rgw/start.sh and removes its directory:
#   scripts/rgw/stop.sh "$RGW_DIR"
# Daemons get SIGKILL (a memstore OSD stopped with SIGTERM first writes all its data
# out, which is slow and pointless here). Idempotent: a DIR that no longer exists is
# fine. Refuses to delete a directory that start.sh did not create.
set -uo pipefail

log() { echo "rgw/stop.sh: $*" >&2; }

[ $# -ge 1 ] && [ -n "$1" ] || { log "usage: stop.sh DIR"; exit 2; }
DIR="$1"
[ -e "$DIR" ] || exit 0
DIR="$(cd "$DIR" && pwd -P)" || exit 1
if [ ! -e "$DIR/.rgw-test-cluster" ]; then
  log "$DIR was not made by scripts/rgw/start.sh (no .rgw-test-cluster marker); not touching it"
  exit 1
fi

# Candidate pids: the pid files the daemons wrote, the pids start.sh recorded at
# launch, and any process whose command line names this DIR's ceph.conf (covers a lost
# pid file). Only processes whose command line mentions this DIR are signalled, so a
# reused pid or another instance is never hit.
conf="$DIR/ceph.conf"
cands=()
for f in "$DIR"/run/*.pid "$DIR"/run/*.pid.launch; do
  [ -f "$f" ] || continue
  pid="$(cat "$f" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] && cands+=("$pid")
done
for c in /proc/[0-9]*/cmdline; do
  pid="${c#/proc/}"; pid="${pid%/cmdline}"
  [ "$pid" = "$$" ] && continue
  if tr '\0' '\n' 2>/dev/null <"$c" | grep -Fxq -- "$conf"; then cands+=("$pid"); fi
done

victims=()
if [ ${#cands[@]} -gt 0 ]; then
  for pid in $(printf '%s\n' "${cands[@]}" | sort -un); do
    [ "$pid" = "$$" ] && continue
    if tr '\0' '\n' 2>/dev/null <"/proc/$pid/cmdline" | grep -Fq -- "$DIR"; then
      victims+=("$pid")
    fi
  done
fi

if [ ${#victims[@]} -gt 0 ]; then
  kill -KILL "${victims[@]}" 2>/dev/null || true
  # Wait (up to ~5 s) until they are gone, so their ports are free when we return.
  for _ in $(seq 1 100); do
    alive=0
    for pid in "${victims[@]}"; do
      if [ -e "/proc/$pid" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" 2>/dev/null; then
        alive=1
      fi
    done
    [ "$alive" = 0 ] && break
    sleep 0.05
  done
fi

rm -rf "$DIR"
