#!/usr/bin/env bash
# Runs the processor and the router together in the foreground; Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
TSX=node_modules/.bin/tsx
trap 'kill 0 2>/dev/null' EXIT INT TERM
$TSX processor-stub/src/main.ts &
$TSX router/src/main.ts &
echo "processor: gRPC 127.0.0.1:${GRPC_PORT:-50051}, HTTP 127.0.0.1:${HTTP_PORT:-8000}; router: http://127.0.0.1:${PORT:-7000}" >&2
wait -n
