// @ts-check
'use strict';
/**
 * Readiness probe preloaded into the benchmark's processor and routers
 * (NODE_OPTIONS=--require .../listen-probe.cjs).
 *
 * The services announce readiness ("processor listening", "router listening") at pino's
 * info level, which LOG_LEVEL=warn suppresses. So that the benchmark can run them at warn
 * and still wait for an event instead of sleeping, this prints one JSON line per TCP
 * server that starts listening: {"msg":"bench-probe listening","pid","port","server"}.
 * `pid` is the process that owns the socket (the node process tsx spawns, not tsx itself);
 * `server` is the constructor name (Http2Server for grpc-js, Server for node:http).
 * It changes nothing else in the process.
 */
const fs = require('node:fs');
const net = require('node:net');

const originalListen = net.Server.prototype.listen;

/** @this {import('node:net').Server} */
function announce() {
  const address = this.address();
  if (!address || typeof address !== 'object') return; // unix sockets and pipes (tsx's IPC) are not services
  const line = JSON.stringify({ msg: 'bench-probe listening', pid: process.pid, port: address.port, server: this.constructor.name }) + '\n';
  try {
    fs.writeSync(1, line);
  } catch {
    process.stdout.write(line);
  }
}

/** @type {typeof net.Server.prototype.listen} */
const listen = function (...args) {
  this.once('listening', announce);
  return originalListen.apply(this, /** @type {Parameters<typeof originalListen>} */ (args));
};
net.Server.prototype.listen = listen;
