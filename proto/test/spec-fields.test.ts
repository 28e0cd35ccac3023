import { AnalysisProcessor, FieldError, ProtectionLayer, WatermarkStrategy, jobSpecFromFields, validateJobSpec } from '../src';

const base = { artist_name: 'Jane', artwork_title: 'Study' };

function fieldOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof FieldError) return err.field;
    throw err;
  }
  throw new Error('expected a FieldError');
}

describe('jobSpecFromFields', () => {
  it('applies the original API defaults', () => {
    const spec = jobSpecFromFields(base);
    expect(spec.analysis).toMatchObject({ includeHashAnalysis: true, enableTineye: false, maxStageDim: 512, processors: [] });
    expect(spec.protection!.includeProtection).toBe(true);
    expect(spec.protection!.layers).toEqual([
      ProtectionLayer.PROTECTION_LAYER_FAWKES,
      ProtectionLayer.PROTECTION_LAYER_PHOTOGUARD,
      ProtectionLayer.PROTECTION_LAYER_MIST,
      ProtectionLayer.PROTECTION_LAYER_NIGHTSHADE,
      ProtectionLayer.PROTECTION_LAYER_INVISIBLE_WATERMARK,
      ProtectionLayer.PROTECTION_LAYER_C2PA_MANIFEST,
    ]);
    expect(spec.protection!.watermark).toMatchObject({ text: 'artscraper', strength: 0.5, treeRingFrequency: 9, treeRingAmplitude: 18 });
    expect(spec.protection!.steganoMessage).toBe('Protected by artscraper');
  });

  it('accepts camelCase and snake_case, boolean-like strings, comma or array tags and JSON strings', () => {
    const spec = jobSpecFromFields({
      artistName: 'Jane',
      artworkTitle: 'Study',
      tags: 'forest, moody ,autumn',
      enableFawkes: 'false',
      enable_stegano_embed: 'yes',
      includeHashAnalysis: '1',
      processors: 'metadata,DHASH',
      watermark_strategy: 'tree-ring',
      extra_metadata: '{"series":"A"}',
      c2pa_assertions: '[{"label":"x"}]',
      artwork_creation_time: '2024-01-02T03:04:05Z',
    });
    expect(spec.metadata!.tags).toEqual(['forest', 'moody', 'autumn']);
    expect(spec.metadata!.extraMetadata).toEqual({ series: 'A' });
    expect(spec.metadata!.artworkCreationTime!.toISOString()).toBe('2024-01-02T03:04:05.000Z');
    expect(spec.analysis!.processors).toEqual([AnalysisProcessor.ANALYSIS_PROCESSOR_METADATA, AnalysisProcessor.ANALYSIS_PROCESSOR_DHASH]);
    expect(spec.protection!.watermark!.strategy).toBe(WatermarkStrategy.WATERMARK_STRATEGY_TREE_RING);
    expect(spec.protection!.layers).toContain(ProtectionLayer.PROTECTION_LAYER_TREE_RING);
    expect(spec.protection!.layers).toContain(ProtectionLayer.PROTECTION_LAYER_STEGANO_EMBED);
    expect(spec.protection!.layers).not.toContain(ProtectionLayer.PROTECTION_LAYER_FAWKES);
    expect(spec.protection!.layers).not.toContain(ProtectionLayer.PROTECTION_LAYER_INVISIBLE_WATERMARK);
    expect(spec.protection!.c2pa!.assertions).toEqual([{ label: 'x' }]);
    expect(jobSpecFromFields({ ...base, tags: ['a', 'b'] }).metadata!.tags).toEqual(['a', 'b']);
  });

  it.each([
    [{ artwork_title: 'x' }, 'artist_name'],
    [{ artist_name: 'x' }, 'artwork_title'],
    [{ ...base, artist_name: 'a'.repeat(121) }, 'artist_name'],
    [{ ...base, artwork_title: 'a'.repeat(201) }, 'artwork_title'],
    [{ ...base, artwork_description: 'a'.repeat(2001) }, 'artwork_description'],
    [{ ...base, tags: Array.from({ length: 26 }, (_, i) => `t${i}`) }, 'tags'],
    [{ ...base, tags: ['a'.repeat(51)] }, 'tags'],
    [{ ...base, processors: 'metadata,magic' }, 'processors'],
    [{ ...base, max_stage_dim: '100' }, 'max_stage_dim'],
    [{ ...base, max_stage_dim: '512.5' }, 'max_stage_dim'],
    [{ ...base, watermark_strength: '1.5' }, 'watermark_strength'],
    [{ ...base, tree_ring_frequency: '0' }, 'tree_ring_frequency'],
    [{ ...base, tree_ring_amplitude: '65' }, 'tree_ring_amplitude'],
    [{ ...base, enable_mist: 'maybe' }, 'enable_mist'],
    [{ ...base, extra_metadata: '[1,2]' }, 'extra_metadata'],
    [{ ...base, extra_metadata: '{nope' }, 'extra_metadata'],
    [{ ...base, watermark_strategy: 'glitter' }, 'watermark_strategy'],
    [{ ...base, artwork_creation_time: 'yesterday' }, 'artwork_creation_time'],
  ])('names the bad field %#', (fields, field) => {
    expect(fieldOf(() => jobSpecFromFields(fields))).toBe(field);
  });
});

describe('validateJobSpec', () => {
  it('holds gRPC-sent specs to the same limits', () => {
    const spec = jobSpecFromFields(base);
    expect(() => validateJobSpec(spec)).not.toThrow();
    expect(fieldOf(() => validateJobSpec({ ...spec, metadata: { ...spec.metadata!, artworkTitle: ' ' } }))).toBe('metadata.artwork_title');
    expect(fieldOf(() => validateJobSpec({ ...spec, metadata: undefined }))).toBe('metadata');
    expect(fieldOf(() => validateJobSpec({ ...spec, image: { contentType: '', sizeBytes: 0, sha256: 'XYZ', filename: '' } }))).toBe('image.sha256');
  });
});
