#!/usr/bin/env bash
# Runs the processor and the router together in the foreground; Ctrl-C (or either one
# exiting) stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
TSX=node_modules/.bin/tsx
pids=()
stop() {
  trap - EXIT INT TERM
  kill -TERM "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
}
trap stop EXIT INT TERM
$TSX processor-stub/src/main.ts &
pids+=($!)
$TSX router/src/main.ts &
pids+=($!)
echo "processor: gRPC :${GRPC_PORT:-50051}, HTTP :${HTTP_PORT:-8000}; router: http://127.0.0.1:${PORT:-7000}" >&2
wait -n
