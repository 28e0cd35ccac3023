#!/usr/bin/env bash
# Makes sure a Redis answers at 127.0.0.1:6379 for the queue tests: the development and CI
# machines run one; if it has stopped, start it the way those machines do (no persistence).
set -euo pipefail
ping_redis() { exec 3<>/dev/tcp/127.0.0.1/6379 && printf 'PING\r\n' >&3 && timeout 2 head -c 5 <&3 | grep -q PONG; }
if ping_redis 2>/dev/null; then exit 0; fi
if ! command -v redis-server >/dev/null; then
  echo "Redis is not reachable at 127.0.0.1:6379 and redis-server is not installed" >&2
  exit 1
fi
mkdir -p /var/lib/redis /var/log/redis
redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
for _ in $(seq 1 50); do ping_redis 2>/dev/null && exit 0; sleep 0.1; done
echo "redis-server started but does not answer PING" >&2
exit 1
