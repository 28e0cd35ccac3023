import dgram from 'node:dgram';
import { once } from 'node:events';
import net from 'node:net';

/**
 * A DNS server on loopback UDP that answers A queries from a table it is given (AAAA and
 * unknown names: no answer). Enough for grpc-js's `dns://host:port/name:port` resolver and
 * for Node's own `Resolver`: a real resolver over a real socket, with answers the test controls.
 */
export interface DnsServer {
  /** `127.0.0.1:port`, the authority of a `dns://` target. */
  authority: string;
  /** Sets the A records of a name (replacing what it had). */
  answer(name: string, ips: string[]): void;
  /** Questions answered so far (a lookup by name asks twice: A and AAAA). */
  readonly queries: number;
  close(): Promise<void>;
}

const TYPE_A = 1;
const CLASS_IN = 1;

/** The question's name and where the question section ends. */
function question(msg: Buffer): { name: string; type: number; end: number } {
  const labels: string[] = [];
  let at = 12;
  while (msg[at] !== 0) {
    labels.push(msg.toString('ascii', at + 1, at + 1 + msg[at]));
    at += msg[at] + 1;
  }
  const type = msg.readUInt16BE(at + 1);
  return { name: labels.join('.').toLowerCase(), type, end: at + 5 };
}

function reply(msg: Buffer, table: Map<string, string[]>): Buffer {
  const q = question(msg);
  const ips = q.type === TYPE_A ? (table.get(q.name) ?? []) : [];
  const known = table.has(q.name);
  const header = Buffer.alloc(12);
  msg.copy(header, 0, 0, 2);
  // response, authoritative, recursion desired and available; NXDOMAIN for a name not in the table
  header.writeUInt16BE(0x8580 | (known ? 0 : 3), 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(ips.length, 6);
  const answers = ips.map((ip) => {
    const rr = Buffer.alloc(16);
    rr.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's
    rr.writeUInt16BE(TYPE_A, 2);
    rr.writeUInt16BE(CLASS_IN, 4);
    rr.writeUInt32BE(0, 6); // TTL 0: nothing cached between the test's steps
    rr.writeUInt16BE(4, 10);
    ip.split('.').forEach((part, i) => rr.writeUInt8(Number(part), 12 + i));
    return rr;
  });
  return Buffer.concat([header, msg.subarray(12, q.end), ...answers]);
}

export async function startDnsServer(): Promise<DnsServer> {
  const table = new Map<string, string[]>();
  const socket = dgram.createSocket('udp4');
  let queries = 0;
  socket.on('message', (msg, from) => {
    queries++;
    socket.send(reply(msg, table), from.port, from.address);
  });
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  return {
    authority: `127.0.0.1:${socket.address().port}`,
    answer(name, ips) {
      if (!ips.every((ip) => net.isIPv4(ip))) throw new Error('A records only');
      table.set(name.toLowerCase(), ips);
    },
    get queries() {
      return queries;
    },
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}
