import { CliError } from './errors';
import { EXIT } from './exit-codes';
import { RouterInfo } from './info';

/** The submit options of `artorizer protect`, as given. */
export interface SubmitOptions {
  artist?: string;
  title?: string;
  description?: string;
  tags?: string[];
  watermark?: string;
  watermarkStrategy?: string;
  layers?: string[];
  processors?: string[];
}

const usage = (message: string) => new CliError(message, EXIT.usage);

/** A comma list as the CLI takes it: "a, b,,c" is [a, b, c]. */
export function commaList(value: string): string[] {
  return value
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v.length > 0);
}

/**
 * Checks the options against what the router offers (GET /info), before anything is uploaded:
 * unknown layers, strategies or processors are usage errors naming the allowed ones.
 */
export function checkOptions(options: SubmitOptions, info: RouterInfo): void {
  const fields = info.fields;
  if (options.layers) {
    if (!fields) throw usage('--layers: this router does not list its layers (it has no GET /info); leave --layers out to get its defaults');
    const known = fields.layers.map((l) => l.layer);
    const unknown = options.layers.filter((l) => l !== 'none' && !known.includes(l));
    if (unknown.length > 0) throw usage(`--layers: unknown layer${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; this router has: ${known.join(', ')} (or "none")`);
  }
  if (options.watermarkStrategy && fields && !fields.watermark_strategies.includes(options.watermarkStrategy)) {
    throw usage(`--watermark-strategy: unknown strategy "${options.watermarkStrategy}"; this router has: ${fields.watermark_strategies.join(', ')}`);
  }
  if (options.processors && fields) {
    const known = fields.processors.map((p) => p.name);
    const unknown = options.processors.filter((p) => !known.includes(p));
    if (unknown.length > 0) throw usage(`--processors: unknown processor${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; this router has: ${known.join(', ')}`);
  }
}

/**
 * The submit form's fields for one file, metadata as the router names it. `--layers` turns
 * exactly the named toggle layers on and every other one off; without it the router's
 * defaults apply.
 */
export function submitFields(options: SubmitOptions, title: string, info: RouterInfo, idempotencyKey: string): Record<string, string> {
  const out: Record<string, string> = {
    artist_name: options.artist ?? '',
    artwork_title: options.title ?? title,
    idempotency_key: idempotencyKey,
  };
  if (options.description !== undefined) out.artwork_description = options.description;
  if (options.tags) out.tags = options.tags.join(',');
  if (options.watermark !== undefined) out.watermark_text = options.watermark;
  if (options.watermarkStrategy !== undefined) out.watermark_strategy = options.watermarkStrategy;
  if (options.processors) out.processors = options.processors.join(',');
  if (options.layers && info.fields) {
    for (const toggle of info.fields.layers) out[toggle.field] = String(options.layers.includes(toggle.layer));
  }
  return out;
}

/**
 * The router's field limits (GET /info), checked before a file is uploaded, so that a title
 * that is too long does not cost an upload first: exit 3, as the router's own 400 would.
 */
export function checkLimits(fields: Record<string, string>, info: RouterInfo, label: string): void {
  const limits = info.fields?.limits;
  if (!limits) return;
  const lengths: [string, string, number | undefined][] = [
    ['artist_name', '--artist', limits.artist_name],
    ['artwork_title', '--title', limits.artwork_title],
    ['artwork_description', '--description', limits.artwork_description],
    ['watermark_text', '--watermark', limits.watermark_text],
  ];
  for (const [field, option, max] of lengths) {
    const length = (fields[field] ?? '').trim().length;
    if (max !== undefined && length > max) throw new CliError(`${label}: ${option} is too long for the router (${length} characters; it accepts at most ${max})`, EXIT.refused, { field });
  }
  const tags = fields.tags ? commaList(fields.tags) : [];
  if (limits.tags !== undefined && tags.length > limits.tags)
    throw new CliError(`${label}: --tags has ${tags.length} tags; the router accepts at most ${limits.tags}`, EXIT.refused, { field: 'tags' });
  const long = tags.find((t) => limits.tag_length !== undefined && t.length > limits.tag_length);
  if (long)
    throw new CliError(`${label}: --tags: "${long.slice(0, 20)}…" is too long for the router (${long.length} characters; it accepts at most ${limits.tag_length})`, EXIT.refused, { field: 'tags' });
}
