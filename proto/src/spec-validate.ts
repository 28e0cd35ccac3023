import { JobSpec } from '../gen/artorizer/v1/artorizer';
import { checkJsonField } from './json-limits';
import { FieldError, SPEC_LIMITS } from './spec-fields';

const SHA256_HEX = /^[0-9a-f]{64}$/;

function checkLength(field: string, value: string, max: number, required: boolean): void {
  if (required && value.trim().length === 0) throw new FieldError(field, `${field} is required`, true);
  if (value.length > max) throw new FieldError(field, `${field} must be at most ${max} characters`);
}

function checkRange(field: string, value: number | undefined, min: number, max: number): void {
  if (value !== undefined && (!Number.isFinite(value) || value < min || value > max)) {
    throw new FieldError(field, `${field} must be between ${min} and ${max}`);
  }
}

/**
 * Checks a JobSpec received over gRPC against the same limits the HTTP field parser
 * applies, so a spec from any client is held to one standard. Throws FieldError.
 */
export function validateJobSpec(spec: JobSpec): void {
  const m = spec.metadata;
  if (!m) throw new FieldError('metadata', 'metadata is required', true);
  checkLength('metadata.artist_name', m.artistName, SPEC_LIMITS.artistName, true);
  checkLength('metadata.artwork_title', m.artworkTitle, SPEC_LIMITS.artworkTitle, true);
  checkLength('metadata.artwork_description', m.artworkDescription, SPEC_LIMITS.artworkDescription, false);
  if (m.extraMetadata !== undefined) checkJsonField('metadata.extra_metadata', m.extraMetadata);
  const c2pa = spec.protection?.c2pa;
  if (c2pa?.assertions !== undefined) checkJsonField('protection.c2pa.assertions', c2pa.assertions);
  checkLength('protection.c2pa.claim_generator', c2pa?.claimGenerator ?? '', SPEC_LIMITS.shortText, false);
  checkLength('protection.c2pa.vendor', c2pa?.vendor ?? '', SPEC_LIMITS.shortText, false);
  if (m.tags.length > SPEC_LIMITS.tags) {
    throw new FieldError('metadata.tags', `tags must have at most ${SPEC_LIMITS.tags} entries`);
  }
  for (const tag of m.tags) checkLength('metadata.tags', tag, SPEC_LIMITS.tagLength, false);
  const a = spec.analysis;
  if (a && a.maxStageDim !== 0) checkRange('analysis.max_stage_dim', a.maxStageDim, 128, 4096);
  const w = spec.protection?.watermark;
  if (w) {
    checkLength('protection.watermark.text', w.text, SPEC_LIMITS.watermarkText, false);
    checkRange('protection.watermark.strength', w.strength, 0, 1);
    checkRange('protection.watermark.tree_ring_frequency', w.treeRingFrequency, 1, 32);
    checkRange('protection.watermark.tree_ring_amplitude', w.treeRingAmplitude, 1, 64);
  }
  if (spec.protection) {
    checkLength('protection.stegano_message', spec.protection.steganoMessage, SPEC_LIMITS.steganoMessage, false);
  }
  checkLength('idempotency_key', spec.idempotencyKey, SPEC_LIMITS.idempotencyKey, false);
  const labels = Object.entries(spec.labels ?? {});
  if (labels.length > SPEC_LIMITS.labels) throw new FieldError('labels', `at most ${SPEC_LIMITS.labels} labels`);
  for (const [key, value] of labels) {
    checkLength('labels', key, SPEC_LIMITS.labelKey, true);
    checkLength('labels', value, SPEC_LIMITS.labelValue, false);
  }
  const sha = spec.image?.sha256 ?? '';
  if (sha !== '' && !SHA256_HEX.test(sha)) {
    throw new FieldError('image.sha256', 'image.sha256 must be 64 lowercase hex characters');
  }
}
