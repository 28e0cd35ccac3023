import { DEFAULT_PROCESSORS, LAYER_TOGGLES, PROCESSOR_NAMES, RASTER_CONTENT_TYPES, SPEC_LIMITS, WATERMARK_STRATEGY_NAMES, snakeCase } from '@artorizer/contract';
import express from 'express';
import { RouterConfig } from '../config';
import { TUS_PATH } from '../tus/upload-id';

export const INFO_PATH = '/info';

/** What the router offers, for its clients (the page, the CLI). */
export interface RouterInfo {
  service: 'artorizer-router';
  api_key_required: boolean;
  max_file_bytes: number;
  accepted_types: readonly string[];
  /** Where images go in: multipart always; resumable (tus) and direct only with an object store. */
  uploads: { multipart: string; resumable: string | null; direct: string | null };
  fields: {
    layers: readonly { field: string; layer: string; default: boolean }[];
    watermark_strategies: string[];
    processors: { name: string; default: boolean }[];
    /** SPEC_LIMITS by field name (`artist_name`, `tag_length`, ...): lengths in characters, `tags` a count. */
    limits: Record<string, number>;
  };
}

/**
 * GET /info, public like /health: the upload paths this router offers, whether it wants an API
 * key, and the submit form's fields with their defaults, so that a client can build its form
 * and pick its path without guessing. Nothing in it is a secret of the deployment.
 */
export function infoRoute(router: express.IRouter, config: RouterConfig, options: { keys: boolean; resumable: boolean }): void {
  const info: RouterInfo = {
    service: 'artorizer-router',
    api_key_required: options.keys,
    max_file_bytes: config.maxFileBytes,
    accepted_types: RASTER_CONTENT_TYPES,
    uploads: { multipart: '/protect', resumable: options.resumable ? TUS_PATH : null, direct: config.store ? '/uploads' : null },
    fields: {
      layers: LAYER_TOGGLES,
      watermark_strategies: Object.keys(WATERMARK_STRATEGY_NAMES),
      processors: Object.entries(PROCESSOR_NAMES).map(([name, value]) => ({ name, default: DEFAULT_PROCESSORS.includes(value) })),
      limits: Object.fromEntries(Object.entries(SPEC_LIMITS).map(([name, limit]) => [snakeCase(name), limit])),
    },
  };
  router.get(INFO_PATH, (_req, res) => {
    res.json(info);
  });
}
