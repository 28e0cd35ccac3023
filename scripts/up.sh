#!/usr/bin/env bash
# Runs the stack in the foreground: the embedded S3-compatible store (unless S3_ENDPOINT
# names a real one), the processor and the router. Ctrl-C, or any of them exiting, stops all.
set -euo pipefail
cd "$(dirname "$0")/.."
TSX=node_modules/.bin/tsx
# the node flags the services run with (docs/deployment.md, "Node flags"); NODE_FLAGS= for none
read -r -a NODE_FLAGS <<<"${NODE_FLAGS-$(cat scripts/node-flags)}"
SERVICE=("$TSX" "${NODE_FLAGS[@]}")
pids=()
stop() {
  trap - EXIT INT TERM
  kill -TERM "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
}
trap stop EXIT INT TERM
# One list of origins for the router's CORS and the embedded store's (browsers upload straight
# to the store from the router's page), on whatever PORT.
export ALLOWED_ORIGINS="${ALLOWED_ORIGINS:-http://127.0.0.1:${PORT:-7000},http://localhost:${PORT:-7000}}"
if [[ -z "${S3_ENDPOINT:-}" && -z "${S3_BUCKET:-}" ]]; then
  export S3_ENDPOINT="http://127.0.0.1:${S3_PORT:-9000}" S3_BUCKET=artorizer S3_REGION=us-east-1
  export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
  "${SERVICE[@]}" scripts/store/main.ts &
  pids+=($!)
fi
# The processor listens on loopback only (gRPC and its HTTP API): on a laptop nothing but this
# router needs it, and without GRPC_TLS_* it is plaintext and unauthenticated. The router too,
# unless HOST says otherwise: without API_KEYS_FILE it is open to whoever reaches it.
HOST=127.0.0.1 "${SERVICE[@]}" reference-processor/src/main.ts &
pids+=($!)
HOST="${HOST:-127.0.0.1}" "${SERVICE[@]}" router/src/main.ts &
pids+=($!)
echo "store: ${S3_ENDPOINT:-AWS S3} bucket ${S3_BUCKET:-artorizer}; processor: gRPC 127.0.0.1:${GRPC_PORT:-50051}, HTTP ${HTTP_HOST:-127.0.0.1}:${HTTP_PORT:-8000}; router: http://127.0.0.1:${PORT:-7000}" >&2
wait -n
