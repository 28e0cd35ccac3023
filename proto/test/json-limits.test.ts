import { FieldError, JSON_FIELD_LIMITS, checkJsonField, jobSpecFromFields, safeFileName, validateJobSpec } from '../src';

const base = { artist_name: 'Jane', artwork_title: 'Study' };

function nested(depth: number): unknown {
  let value: unknown = 'leaf';
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
}

function refusal(fn: () => unknown): { field: string; message: string } {
  try {
    fn();
  } catch (err) {
    if (err instanceof FieldError) return { field: err.field, message: err.message };
    throw err;
  }
  throw new Error('expected a FieldError');
}

describe('JSON field limits', () => {
  it('refuses depth, entries, long strings and size, naming the field', () => {
    expect(refusal(() => checkJsonField('extra_metadata', nested(150_000))).message).toMatch(/nested deeper than 16/);
    expect(() => checkJsonField('extra_metadata', nested(JSON_FIELD_LIMITS.depth - 1))).not.toThrow();
    expect(refusal(() => checkJsonField('extra_metadata', { list: Array(2000).fill(1) })).message).toMatch(/more than 1000/);
    expect(refusal(() => checkJsonField('extra_metadata', { s: 'x'.repeat(5000) })).message).toMatch(/longer than 4096/);
    expect(refusal(() => checkJsonField('extra_metadata', { ['k'.repeat(5000)]: 1 })).message).toMatch(/longer than 4096/);
    const wide = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, 'y'.repeat(4000)]));
    expect(refusal(() => checkJsonField('extra_metadata', wide)).message).toMatch(/larger than 65536 bytes/);
  });

  it('is applied by the field parser (HTTP) and by the spec check (gRPC)', () => {
    expect(refusal(() => jobSpecFromFields({ ...base, extra_metadata: JSON.stringify(nested(100)) })).field).toBe('extra_metadata');
    expect(refusal(() => jobSpecFromFields({ ...base, c2pa_assertions: [nested(100)] })).field).toBe('c2pa_assertions');
    const spec = jobSpecFromFields(base);
    spec.metadata!.extraMetadata = nested(100) as Record<string, unknown>;
    expect(refusal(() => validateJobSpec(spec)).field).toBe('metadata.extra_metadata');
  });
});

describe('safeFileName', () => {
  it('keeps the last segment, drops control characters and quotes, bounds the length', () => {
    expect(safeFileName('../../etc/passwd')).toBe('passwd');
    expect(safeFileName('C:\\art\\sun.png')).toBe('sun.png');
    expect(safeFileName('a\r\nSet-Cookie: x\u0000"b".png')).toBe('aSet-Cookie: xb.png');
    expect(safeFileName('..')).toBe('');
    const long = safeFileName(`${'é'.repeat(10_000)}.png`);
    expect(Buffer.byteLength(long)).toBeLessThanOrEqual(255);
    expect(long.endsWith('.png')).toBe(true);
  });
});
