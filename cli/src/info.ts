import { CliError, DEFAULT_ACCEPTED_TYPES } from './errors';
import { Connection, request } from './http';

/** What GET /info says the router offers (router/src/routes/info.ts). */
export interface RouterInfo {
  service?: string;
  api_key_required: boolean;
  max_file_bytes?: number;
  accepted_types: readonly string[];
  uploads: { multipart: string; resumable: string | null; direct: string | null };
  fields?: {
    layers: readonly { field: string; layer: string; default: boolean }[];
    watermark_strategies: readonly string[];
    processors: readonly { name: string; default: boolean }[];
    /** The field limits the router enforces, by field name: lengths in characters, `tags` a count. */
    limits?: Partial<Record<'artist_name' | 'artwork_title' | 'artwork_description' | 'tags' | 'tag_length' | 'watermark_text', number>>;
  };
}

/** A router that predates GET /info: multipart uploads only, nothing else known. */
const ASSUMED: RouterInfo = { api_key_required: false, accepted_types: DEFAULT_ACCEPTED_TYPES, uploads: { multipart: '/protect', resumable: null, direct: null } };

/** GET /info (public); a router without it (404) is taken for an older one that takes multipart uploads. */
export async function routerInfo(conn: Connection): Promise<RouterInfo> {
  let res: Response;
  try {
    res = await request(conn, '/info', { subject: { label: 'router' } });
  } catch (err) {
    if (err instanceof CliError && err.details.status === 404) return ASSUMED;
    throw err;
  }
  const info = (await res.json().catch(() => undefined)) as Partial<RouterInfo> | undefined;
  if (!info || typeof info !== 'object' || !info.uploads) return ASSUMED;
  return { ...ASSUMED, ...info, accepted_types: info.accepted_types ?? DEFAULT_ACCEPTED_TYPES };
}
