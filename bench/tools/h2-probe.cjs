// Diagnostic preload (NODE_OPTIONS=--require): logs HTTP/2 session/stream flow-control state
// of every http2 client/server session in this process to $H2_PROBE_DIR/<pid>.log.
const http2 = require('node:http2');
const fs = require('node:fs');
const path = require('node:path');
const dir = process.env.H2_PROBE_DIR || '/tmp/h2p';
const file = path.join(dir, `${process.pid}.log`);
const t0 = Date.now();
function log(obj) {
  fs.appendFileSync(file, JSON.stringify({ t: Date.now() - t0, pid: process.pid, ...obj }) + '\n');
}
function sstate(s) {
  try {
    const st = s.state;
    return { effLocal: st.effectiveLocalWindowSize, local: st.localWindowSize, remote: st.remoteWindowSize, outq: st.outboundQueueSize, deflate: st.deflateDynamicTableSize };
  } catch (e) {
    return { err: String(e) };
  }
}
function settings(x) {
  return x ? { iws: x.initialWindowSize, mfs: x.maxFrameSize, mcs: x.maxConcurrentStreams } : x;
}
function watchSession(session, side) {
  const id = Math.random().toString(36).slice(2, 7);
  log({ side, id, ev: 'session', state: sstate(session), localSettings: settings(session.localSettings), remoteSettings: settings(session.remoteSettings) });
  session.on('connect', () => log({ side, id, ev: 'connect', state: sstate(session), localSettings: settings(session.localSettings), remoteSettings: settings(session.remoteSettings) }));
  session.on('localSettings', (s) => log({ side, id, ev: 'localSettings(acked)', s: settings(s), state: sstate(session) }));
  session.on('remoteSettings', (s) => log({ side, id, ev: 'remoteSettings', s: settings(s), state: sstate(session) }));
  const onStream = (stream) => {
    const samples = [];
    const timer = setInterval(() => {
      try {
        samples.push({ s: sstate(session), st: { local: stream.state.localWindowSize, remote: stream.state.remoteWindowSize } });
      } catch {
        /* stream already closed */
      }
    }, 20);
    stream.on('close', () => {
      clearInterval(timer);
      if (samples.length > 3)
        log({
          side,
          id,
          ev: 'stream-close',
          bytesRead: stream.bytesRead ?? null,
          samples: samples.slice(0, 6),
          localSettings: settings(session.localSettings),
          remoteSettings: settings(session.remoteSettings),
        });
    });
  };
  if (side === 'server') session.on('stream', onStream);
  else {
    const req = session.request.bind(session);
    session.request = (...a) => {
      const s = req(...a);
      onStream(s);
      return s;
    };
  }
}
const origCreate = http2.createServer;
http2.createServer = function (...a) {
  const srv = origCreate.apply(this, a);
  log({ ev: 'createServer', opts: a[0] && typeof a[0] === 'object' ? { settings: a[0].settings } : null });
  srv.on('session', (s) => watchSession(s, 'server'));
  return srv;
};
const origConnect = http2.connect;
http2.connect = function (...a) {
  const s = origConnect.apply(this, a);
  const opts = a.find((x) => x && typeof x === 'object' && !(typeof x === 'function'));
  log({ ev: 'connect-call', settings: opts && opts.settings });
  watchSession(s, 'client');
  return s;
};
