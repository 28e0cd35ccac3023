import { integer, list, section, setting, text } from '@artorizer/service-kit';
import { z } from 'zod';

/** Who may call the router, and how much. */
export const accessSettings = section('Access', {
  apiKeysFile: text({
    name: 'API_KEYS_FILE',
    default: undefined,
    defaultText: 'unset (open, with a warning)',
    meaning:
      'API keys, one a line: `name:sha256hex` of the secret, optionally `:max_priority=N` (0..100; the highest `priority` the key may ask for, default 0); `#` comments; re-read when it changes (a bad edit is logged and ignored); `make api-key NAME=… [MAX_PRIORITY=…]` adds one',
  }),
  submitsPerMinute: integer({
    name: 'RATE_LIMIT_SUBMITS_PER_MINUTE',
    default: 300,
    min: 0,
    meaning:
      'job and upload creations (`POST /protect`, `POST /uploads`, `POST /files`) a minute per API key, and per client address on an open router; 0 = off; counted in Redis (shared by every router) with `REDIS_URL`, in the process otherwise',
  }),
  submitsPerMinutePerAddress: integer({
    name: 'RATE_LIMIT_SUBMITS_PER_MINUTE_PER_ADDRESS',
    default: undefined,
    defaultText: '4 × the per-key limit',
    min: 0,
    meaning: 'with keys: creations a minute per client address, all keys together',
  }),
  maxUploadsPerKey: integer({
    name: 'MAX_CONCURRENT_UPLOADS_PER_KEY',
    default: 16,
    min: 1,
    meaning: 'multipart uploads in flight at once per key (per address when open), per router process',
  }),
  maxEventStreamsPerKey: integer({
    name: 'MAX_EVENT_STREAMS_PER_KEY',
    default: 64,
    min: 1,
    meaning: 'open `GET /jobs/:id/events` streams per key (per address when open), per router process',
  }),
  allowedOrigins: list({
    name: 'ALLOWED_ORIGINS',
    default: [],
    defaultText: "none (`make up`: the router's own two origins)",
    meaning:
      'origins browsers may call the API from (CORS), comma list; `make up` gives the router and the embedded store the same list (a store of your own needs the same CORS rule set on its bucket)',
  }),
  trustProxy: setting<number | string | false>(
    {
      name: 'TRUST_PROXY',
      default: false,
      defaultText: 'none',
      meaning:
        "which proxies in front of the router to believe about the client's address (`X-Forwarded-For`): a hop count, or addresses/CIDRs/`loopback`, comma list; behind a load balancer, set it, or every client shares the balancer's address and its per-address limits",
    },
    'hop count or comma list',
    z.string().transform((value) => (/^\d+$/.test(value) ? Number(value) : value)),
  ),
  metricsToken: text({
    name: 'METRICS_TOKEN',
    default: undefined,
    meaning: "`/metrics` only with `Authorization: Bearer <token>`; with `API_KEYS_FILE` and neither this nor `METRICS_PORT`, `/metrics` is not served (a tenant's key does not read it)",
  }),
  metricsPort: integer({ name: 'METRICS_PORT', default: undefined, min: 0, max: 65535, meaning: 'serve `/metrics` on its own port (and not on `PORT`), bound to `METRICS_HOST`' }),
  metricsHost: text({ name: 'METRICS_HOST', default: '127.0.0.1', meaning: 'bind address of `METRICS_PORT`' }),
});
