#!/usr/bin/env bash
# Starts a throwaway single-node Ceph RADOS Gateway (S3-compatible) for tests:
# one ceph-mon, one ceph-osd (memstore, data in RAM) and radosgw (beast frontend on
# 127.0.0.1), all under DIR, with their own ceph.conf (nothing in /etc/ceph is used).
#
#   env="$(scripts/rgw/start.sh [DIR])"    # fails here if start-up fails
#   set -a; eval "$env"; set +a             # exports RGW_DIR S3_ENDPOINT AWS_* S3_REGION
#   ...                                     # run tests against $S3_ENDPOINT
#   scripts/rgw/stop.sh "$RGW_DIR"
# (A bare `eval "$(scripts/rgw/start.sh)"` works too, but eval returns 0 even when
# start.sh failed, and without `set -a` the variables are not exported to children.
# The output also suits $GITHUB_ENV or a dotenv file.)
#
# DIR (default: a new mktemp dir) must not exist or be empty. stdout gets only
# KEY=value lines; diagnostics go to stderr. Exit 3: packages missing (run
# scripts/rgw/install.sh). Other non-zero: start-up failed; whatever was started is
# killed and DIR removed (set RGW_KEEP_ON_FAILURE=1 to keep DIR for inspection).
#
# Environment (optional): RGW_ACCESS_KEY, RGW_SECRET_KEY (fixed defaults below),
# RGW_START_TIMEOUT (seconds, default 60), RGW_MEMSTORE_BYTES (the OSD's capacity, held
# in RAM, default 2 GiB: writes block once it is 98 % full).
set -euo pipefail

ACCESS_KEY="${RGW_ACCESS_KEY:-AKIAARTORIZERTEST}"
SECRET_KEY="${RGW_SECRET_KEY:-artorizer-test-secret-key-0123456789abcd}"
REGION=us-east-1
TIMEOUT="${RGW_START_TIMEOUT:-60}"

log() { echo "rgw/start.sh: $*" >&2; }

for bin in ceph-mon ceph-osd radosgw radosgw-admin ceph ceph-authtool monmaptool; do
  if ! command -v "$bin" >/dev/null 2>&1; then
    log "radosgw not installed (run scripts/rgw/install.sh); missing: $bin"
    exit 3
  fi
done
for bin in curl timeout; do
  command -v "$bin" >/dev/null 2>&1 || { log "missing required tool: $bin"; exit 1; }
done

# --- DIR -----------------------------------------------------------------------------
created_dir=0
if [ $# -ge 1 ] && [ -n "$1" ]; then
  DIR="$1"
  if [ -e "$DIR" ]; then
    [ -d "$DIR" ] || { log "$DIR exists and is not a directory"; exit 1; }
    if [ -n "$(ls -A "$DIR")" ]; then log "$DIR is not empty"; exit 1; fi
  else
    mkdir -p "$DIR"; created_dir=1
  fi
else
  DIR="$(mktemp -d "${TMPDIR:-/tmp}/rgw.XXXXXXXX")"; created_dir=1
fi
DIR="$(cd "$DIR" && pwd -P)"
# Unix socket paths (admin sockets) are limited to 107 bytes.
if [ ${#DIR} -gt 70 ]; then log "DIR path too long (admin sockets need < 108 bytes): $DIR"; exit 1; fi
mkdir -p "$DIR"/{mon,osd,rgw,run,log,crash}
: >"$DIR/.rgw-test-cluster"   # marker checked by stop.sh before it removes DIR
CONF="$DIR/ceph.conf"
export CEPH_CONF="$CONF"
START_NS=$(date +%s%N)
DEADLINE=$(( $(date +%s) + TIMEOUT ))

elapsed() { echo "$(( ($(date +%s%N) - START_NS) / 1000000 )) ms"; }

kill_started() {
  local f pid
  for f in "$DIR"/run/*.pid "$DIR"/run/*.pid.launch; do
    [ -f "$f" ] || continue
    pid="$(cat "$f" 2>/dev/null || true)"
    [[ "$pid" =~ ^[0-9]+$ ]] && kill -KILL "$pid" 2>/dev/null || true
  done
}

succeeded=0
on_exit() {
  local rc=$?
  [ "$succeeded" = 1 ] && return
  [ "$rc" = 0 ] && rc=1
  log "FAILED (exit $rc) after $(elapsed)"
  kill_started
  local f
  for f in "$DIR"/log/*.log; do
    [ -s "$f" ] || continue
    echo "----- tail of $f -----" >&2
    tail -n 20 "$f" >&2 || true
  done
  if [ "${RGW_KEEP_ON_FAILURE:-0}" = 1 ]; then
    log "kept $DIR (RGW_KEEP_ON_FAILURE=1)"
  elif [ "$created_dir" = 1 ]; then
    rm -rf "$DIR"
  else
    find "$DIR" -mindepth 1 -delete 2>/dev/null || rm -rf "${DIR:?}"/* "${DIR:?}"/.rgw-test-cluster
  fi
  exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

die() { log "$*"; exit 1; }

# --- free ports ------------------------------------------------------------------------
# A port is taken if any IPv4/IPv6 TCP socket (listening or connected) uses it locally.
port_in_use() {
  local hex; hex=$(printf '%04X' "$1")
  awk -v p=":$hex" 'NR > 1 && substr($2, length($2) - 4) == p { found = 1 } END { exit !found }' \
    /proc/net/tcp /proc/net/tcp6 2>/dev/null
}
pick_port() {  # random port below Linux's default ephemeral range (32768-60999)
  local p i
  for i in $(seq 1 200); do
    p=$(( 20000 + (RANDOM * 32768 + RANDOM) % 12000 ))
    [ "$p" = "${1:-}" ] && continue
    port_in_use "$p" || { echo "$p"; return 0; }
  done
  return 1
}
MON_PORT=$(pick_port) || die "no free port for ceph-mon"
RGW_PORT=$(pick_port "$MON_PORT") || die "no free port for radosgw"

# --- config and keys -------------------------------------------------------------------
FSID=$(cat /proc/sys/kernel/random/uuid)
OSD_UUID=$(cat /proc/sys/kernel/random/uuid)
cat >"$CONF" <<EOF
[global]
fsid = $FSID
mon host = [v2:127.0.0.1:$MON_PORT]
mon initial members = a
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind msgr1 = false
ms bind msgr2 = true
ms bind ipv6 = false
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
auth allow insecure global id reclaim = false
keyring = $DIR/keyring
run dir = $DIR/run
crash dir = $DIR/crash
admin socket = $DIR/run/\$cluster-\$name.asok
pid file = $DIR/run/\$name.pid
log file = $DIR/log/\$name.log
log to stderr = false
err to stderr = false
log to syslog = false
log flush on exit = false
debug ms = 0
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon allow pool size one = true
mon allow pool delete = true
mon max pg per osd = 1000
mon warn on pool no redundancy = false
osd crush chooseleaf type = 0
mon osd nearfull ratio = 0.95
mon osd backfillfull ratio = 0.97
mon osd full ratio = 0.98
osd failsafe full ratio = 0.99
paxos propose interval = 0.05
mon data avail warn = 1
mon data avail crit = 0
client mount timeout = 30
rados mon op timeout = 30

[mon]
mon data = $DIR/mon

[osd]
osd data = $DIR/osd
osd objectstore = memstore
memstore device bytes = ${RGW_MEMSTORE_BYTES:-2147483648}
osd max object name len = 460
osd max object namespace len = 64
osd crush update on start = true

[client.rgw.a]
rgw frontends = beast endpoint=127.0.0.1:$RGW_PORT
rgw data = $DIR/rgw
rgw thread pool size = 64
rgw enable usage log = false
rgw dns name = 127.0.0.1
EOF

KEYRING="$DIR/keyring"
{
  ceph-authtool --create-keyring "$KEYRING" --gen-key -n mon. --cap mon 'allow *'
  ceph-authtool "$KEYRING" --gen-key -n client.admin \
    --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' --cap mds 'allow *'
  ceph-authtool "$KEYRING" --gen-key -n osd.0 \
    --cap mon 'allow profile osd' --cap osd 'allow *' --cap mgr 'allow profile osd'
  ceph-authtool "$KEYRING" --gen-key -n client.rgw.a \
    --cap mon 'allow rw' --cap osd 'allow rwx' --cap mgr 'allow rw'
} >/dev/null 2>"$DIR/log/setup.log" || die "ceph-authtool failed"
chmod 600 "$KEYRING"

# Start a daemon in the foreground (-f), detached from this shell's stdout (so that
# "$(start.sh)" returns) and from its session; record its pid.
start_daemon() {  # NAME -- command...
  local name="$1"; shift
  setsid "$@" -f --conf "$CONF" </dev/null >>"$DIR/log/$name.stdout.log" 2>&1 &
  echo $! >"$DIR/run/$name.pid.launch"
  disown $!   # no "Killed" job notices from this shell if it has to clean up
}

CEPH=(timeout 20 ceph --conf "$CONF" --connect-timeout 10)

# --- mon ---------------------------------------------------------------------------------
monmaptool --create --fsid "$FSID" --addv a "[v2:127.0.0.1:$MON_PORT]" "$DIR/monmap" \
  >>"$DIR/log/setup.log" 2>&1 || die "monmaptool failed"
ceph-mon --conf "$CONF" --mkfs -i a --monmap "$DIR/monmap" --keyring "$KEYRING" \
  >>"$DIR/log/setup.log" 2>&1 || die "ceph-mon --mkfs failed"
start_daemon mon.a ceph-mon -i a
log "ceph-mon started on v2:127.0.0.1:$MON_PORT ($(elapsed))"

alive() {  # NAME: is the launched process still running?
  local pid; pid="$(cat "$DIR/run/$1.pid.launch" 2>/dev/null || true)"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}
poll() {  # DESCRIPTION DAEMON-NAME command...: retry until the command succeeds
  local what="$1" daemon="$2"; shift 2
  local delay=0.05
  until "$@" >/dev/null 2>&1; do
    [ -z "$daemon" ] || alive "$daemon" || die "$daemon exited while waiting for $what"
    [ "$(date +%s)" -lt "$DEADLINE" ] || die "timed out after ${TIMEOUT}s waiting for $what"
    sleep "$delay"
    delay=0.1
  done
}

# `ceph osd new` doubles as the "mon is up and answering" check.
poll "ceph-mon quorum / ceph osd new" mon.a "${CEPH[@]}" osd new "$OSD_UUID" 0
log "mon up, osd.0 registered ($(elapsed))"

# --- osd ---------------------------------------------------------------------------------
ceph-osd --conf "$CONF" -i 0 --mkfs --osd-uuid "$OSD_UUID" --keyring "$KEYRING" \
  >>"$DIR/log/setup.log" 2>&1 || die "ceph-osd --mkfs failed"
start_daemon osd.0 ceph-osd -i 0

osd_up() {
  "${CEPH[@]}" osd stat -f json 2>/dev/null | grep -Eq '"num_up_osds": *[1-9]'
}
poll "osd.0 up" osd.0 osd_up
log "osd.0 up ($(elapsed))"

# --- rgw ---------------------------------------------------------------------------------
# radosgw and the user creation both set up RGW's pools; run them side by side.
start_daemon client.rgw.a radosgw -n client.rgw.a
remaining=$(( DEADLINE - $(date +%s) )); [ "$remaining" -ge 5 ] || remaining=5
timeout "$remaining" radosgw-admin --conf "$CONF" user create --uid=test --display-name="Test user" \
  --access-key="$ACCESS_KEY" --secret-key="$SECRET_KEY" >>"$DIR/log/setup.log" 2>&1 \
  || die "radosgw-admin user create failed (see setup.log)"
log "S3 user created ($(elapsed))"

rgw_answers() {
  local code
  code=$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$RGW_PORT/") || return 1
  [ "$code" = 200 ]
}
poll "radosgw HTTP on 127.0.0.1:$RGW_PORT" client.rgw.a rgw_answers
log "S3 answers at http://127.0.0.1:$RGW_PORT ($(elapsed)); stop with: scripts/rgw/stop.sh $DIR"

succeeded=1
printf 'RGW_DIR=%q\n' "$DIR"
printf 'S3_ENDPOINT=%s\n' "http://127.0.0.1:$RGW_PORT"
printf 'AWS_ACCESS_KEY_ID=%q\n' "$ACCESS_KEY"
printf 'AWS_SECRET_ACCESS_KEY=%q\n' "$SECRET_KEY"
printf 'S3_REGION=%s\n' "$REGION"
