import { AnalysisProcessor, JobSpec, ProtectionLayer, WatermarkStrategy } from '../gen/artorizer/v1/artorizer';
import { checkJsonField } from './json-limits';
import { LAYER_NAMES, PROCESSOR_NAMES, WATERMARK_STRATEGY_NAMES } from './names';

/** A field of the original API that failed validation; becomes a 400. */
export class FieldError extends Error {
  constructor(
    readonly field: string,
    message: string,
    /** The field is absent (or blank), as opposed to present and invalid: a later part of a form may still bring it. */
    readonly missing = false,
  ) {
    super(message);
    this.name = 'FieldError';
  }
}

/** Limits of the original router's validation, explicit in one place. */
export const SPEC_LIMITS = {
  artistName: 120,
  artworkTitle: 200,
  artworkDescription: 2000,
  tags: 25,
  tagLength: 50,
  watermarkText: 256,
  steganoMessage: 4096,
  shortText: 500,
  idempotencyKey: 200,
  labels: 16,
  labelKey: 63,
  labelValue: 512,
} as const;

export type FieldValue = unknown;
export type RawFields = Record<string, FieldValue>;

/** `artistName` and `artist_name` are the same field. */
export function snakeCase(name: string): string {
  return /[A-Z]/.test(name) ? name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase() : name;
}

/** The fields with snake_case names; the same object when they all are (the common case). */
export function normaliseFieldNames(fields: RawFields): RawFields {
  let camel = false;
  for (const key in fields) {
    if (snakeCase(key) !== key) {
      camel = true;
      break;
    }
  }
  if (!camel) return fields;
  const out: RawFields = {};
  for (const [key, value] of Object.entries(fields)) out[snakeCase(key)] = value;
  return out;
}

function text(fields: RawFields, name: string, max: number, required = false): string {
  const value = fields[name];
  if (value === undefined || value === null || value === '') {
    if (required) throw new FieldError(name, `${name} is required`, true);
    return '';
  }
  if (typeof value !== 'string') throw new FieldError(name, `${name} must be a string`);
  const trimmed = value.trim();
  if (required && trimmed.length === 0) throw new FieldError(name, `${name} is required`, true);
  if (trimmed.length > max) throw new FieldError(name, `${name} must be at most ${max} characters`);
  return trimmed;
}

const TRUE_WORDS = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'off', '']);

function bool(fields: RawFields, name: string, fallback: boolean): boolean {
  const value = fields[name];
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number' && (value === 0 || value === 1)) return value === 1;
  if (typeof value === 'string') {
    const word = value.trim().toLowerCase();
    if (TRUE_WORDS.has(word)) return true;
    if (FALSE_WORDS.has(word)) return false;
  }
  throw new FieldError(name, `${name} must be a boolean (true/false)`);
}

function num(fields: RawFields, name: string, range: { min: number; max: number; integer?: boolean }): number | undefined {
  const value = fields[name];
  if (value === undefined || value === null || value === '') return undefined;
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value.trim()) : NaN;
  if (!Number.isFinite(n) || (range.integer && !Number.isInteger(n))) {
    throw new FieldError(name, `${name} must be ${range.integer ? 'an integer' : 'a number'}`);
  }
  if (n < range.min || n > range.max) {
    throw new FieldError(name, `${name} must be between ${range.min} and ${range.max}`);
  }
  return n;
}

/** An array, or a comma-separated string (or a JSON array string, as some clients send). */
function list(fields: RawFields, name: string): string[] | undefined {
  const value = fields[name];
  if (value === undefined || value === null || value === '') return undefined;
  let items: unknown[];
  if (Array.isArray(value)) items = value;
  else if (typeof value === 'string') {
    const trimmed = value.trim();
    items = trimmed.startsWith('[') ? parseJsonArray(name, trimmed) : trimmed.split(',');
  } else throw new FieldError(name, `${name} must be an array or a comma-separated string`);
  return items
    .map((item) => {
      if (typeof item !== 'string') throw new FieldError(name, `${name} must contain strings`);
      return item.trim();
    })
    .filter((item) => item.length > 0);
}

function parseJsonArray(name: string, raw: string): unknown[] {
  const parsed = parseJson(name, raw);
  if (!Array.isArray(parsed)) throw new FieldError(name, `${name} must be an array`);
  return parsed;
}

function parseJson(name: string, raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    throw new FieldError(name, `${name} is not valid JSON`);
  }
}

function jsonObject(fields: RawFields, name: string): Record<string, unknown> | undefined {
  const value = fields[name];
  if (value === undefined || value === null || value === '') return undefined;
  const parsed = typeof value === 'string' ? parseJson(name, value) : value;
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new FieldError(name, `${name} must be a JSON object`);
  }
  checkJsonField(name, parsed);
  return parsed as Record<string, unknown>;
}

function jsonObjectOrArray(fields: RawFields, name: string): unknown {
  const value = fields[name];
  if (value === undefined || value === null || value === '') return undefined;
  const parsed = typeof value === 'string' ? parseJson(name, value) : value;
  if (typeof parsed !== 'object' || parsed === null) {
    throw new FieldError(name, `${name} must be a JSON object or array`);
  }
  checkJsonField(name, parsed);
  return parsed;
}

function timestamp(fields: RawFields, name: string): Date | undefined {
  const value = text(fields, name, 64);
  if (!value) return undefined;
  const date = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(date.getTime())) {
    throw new FieldError(name, `${name} must be an ISO 8601 date-time`);
  }
  return date;
}

function tags(fields: RawFields): string[] {
  const items = list(fields, 'tags') ?? [];
  if (items.length > SPEC_LIMITS.tags) {
    throw new FieldError('tags', `tags must have at most ${SPEC_LIMITS.tags} entries`);
  }
  for (const tag of items) {
    if (tag.length > SPEC_LIMITS.tagLength) {
      throw new FieldError('tags', `each tag must be at most ${SPEC_LIMITS.tagLength} characters`);
    }
  }
  return items;
}

function processors(fields: RawFields): AnalysisProcessor[] {
  const names = list(fields, 'processors') ?? [];
  return names.map((name) => {
    const key = name.toLowerCase();
    if (!(key in PROCESSOR_NAMES)) {
      throw new FieldError('processors', `unknown processor "${name}"; allowed: ${Object.keys(PROCESSOR_NAMES).join(', ')}`);
    }
    return PROCESSOR_NAMES[key as keyof typeof PROCESSOR_NAMES];
  });
}

function watermarkStrategy(fields: RawFields): WatermarkStrategy {
  const value = text(fields, 'watermark_strategy', 64).toLowerCase();
  if (!value) return WatermarkStrategy.WATERMARK_STRATEGY_INVISIBLE;
  if (!(value in WATERMARK_STRATEGY_NAMES)) {
    throw new FieldError('watermark_strategy', `watermark_strategy must be one of ${Object.keys(WATERMARK_STRATEGY_NAMES).join(', ')}`);
  }
  return WATERMARK_STRATEGY_NAMES[value as keyof typeof WATERMARK_STRATEGY_NAMES];
}

/**
 * The protection layers a client turns on and off, each by its own boolean field, with the
 * original API's default (the watermark layers follow `watermark_strategy` instead).
 */
export const LAYER_TOGGLES = [
  { field: 'enable_fawkes', layer: 'fawkes', default: true },
  { field: 'enable_photoguard', layer: 'photoguard', default: true },
  { field: 'enable_mist', layer: 'mist', default: true },
  { field: 'enable_nightshade', layer: 'nightshade', default: true },
  { field: 'enable_stegano_embed', layer: 'stegano-embed', default: false },
  { field: 'enable_c2pa_manifest', layer: 'c2pa-manifest', default: true },
] as const satisfies readonly { field: string; layer: keyof typeof LAYER_NAMES; default: boolean }[];

function layers(fields: RawFields, strategy: WatermarkStrategy): ProtectionLayer[] {
  const chosen: ProtectionLayer[] = LAYER_TOGGLES.filter((t) => bool(fields, t.field, t.default)).map((t) => LAYER_NAMES[t.layer]);
  if (strategy === WatermarkStrategy.WATERMARK_STRATEGY_INVISIBLE) chosen.push(LAYER_NAMES['invisible-watermark']);
  if (strategy === WatermarkStrategy.WATERMARK_STRATEGY_TREE_RING) chosen.push(LAYER_NAMES['tree-ring']);
  return chosen.sort((a, b) => a - b);
}

/**
 * Turns the original API's fields (multipart form fields or a JSON body, camelCase or
 * snake_case) into a JobSpec, applying the original defaults and ranges.
 * Throws FieldError naming the first bad field.
 */
export function jobSpecFromFields(input: RawFields): JobSpec {
  const fields = normaliseFieldNames(input);
  const strategy = watermarkStrategy(fields);
  return {
    metadata: {
      artistName: text(fields, 'artist_name', SPEC_LIMITS.artistName, true),
      artworkTitle: text(fields, 'artwork_title', SPEC_LIMITS.artworkTitle, true),
      artworkDescription: text(fields, 'artwork_description', SPEC_LIMITS.artworkDescription),
      artworkCreationTime: timestamp(fields, 'artwork_creation_time'),
      tags: tags(fields),
      extraMetadata: jsonObject(fields, 'extra_metadata'),
      artistUrl: text(fields, 'artist_url', SPEC_LIMITS.shortText),
    },
    analysis: {
      includeHashAnalysis: bool(fields, 'include_hash_analysis', true),
      processors: processors(fields),
      enableTineye: bool(fields, 'enable_tineye', false),
      maxStageDim: num(fields, 'max_stage_dim', { min: 128, max: 4096, integer: true }) ?? 512,
    },
    protection: {
      includeProtection: bool(fields, 'include_protection', true),
      layers: layers(fields, strategy),
      watermark: {
        strategy,
        text: text(fields, 'watermark_text', SPEC_LIMITS.watermarkText) || 'artscraper',
        strength: num(fields, 'watermark_strength', { min: 0, max: 1 }) ?? 0.5,
        treeRingFrequency: num(fields, 'tree_ring_frequency', { min: 1, max: 32 }) ?? 9,
        treeRingAmplitude: num(fields, 'tree_ring_amplitude', { min: 1, max: 64 }) ?? 18,
      },
      steganoMessage: text(fields, 'stegano_message', SPEC_LIMITS.steganoMessage) || 'Protected by artscraper',
      c2pa: {
        claimGenerator: text(fields, 'c2pa_claim_generator', SPEC_LIMITS.shortText),
        assertions: jsonObjectOrArray(fields, 'c2pa_assertions'),
        vendor: text(fields, 'c2pa_vendor', SPEC_LIMITS.shortText),
      },
    },
    image: undefined,
    idempotencyKey: text(fields, 'idempotency_key', SPEC_LIMITS.idempotencyKey),
    priority: num(fields, 'priority', { min: -100, max: 100, integer: true }) ?? 0,
    labels: {},
  };
}
