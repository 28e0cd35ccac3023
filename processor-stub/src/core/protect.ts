import { LayerOutcome, LayerStatus, ProtectionLayer, ProtectionOptions } from '@artorizer/contract';
import { RawImage, decodeRaw, encodePng } from '../image/decode';
import { embedStegano, extractStegano } from '../image/stegano';
import { embedWatermark, extractWatermark } from '../image/watermark';

/** Why each layer this processor cannot perform honestly is skipped. */
const SKIP_REASONS: Partial<Record<ProtectionLayer, string>> = {
  [ProtectionLayer.PROTECTION_LAYER_FAWKES]:
    'Fawkes needs its face-recognition cloaking model, which this reference processor does not ship',
  [ProtectionLayer.PROTECTION_LAYER_PHOTOGUARD]:
    'PhotoGuard needs a diffusion image encoder to compute its perturbation, which this reference processor does not ship',
  [ProtectionLayer.PROTECTION_LAYER_MIST]:
    'Mist needs a latent diffusion model to compute its perturbation, which this reference processor does not ship',
  [ProtectionLayer.PROTECTION_LAYER_NIGHTSHADE]:
    'Nightshade needs a text-to-image model to compute its poison perturbation, which this reference processor does not ship',
  [ProtectionLayer.PROTECTION_LAYER_TREE_RING]:
    "Tree-Ring watermarks live in a diffusion model's initial noise; this reference processor has no diffusion model",
  [ProtectionLayer.PROTECTION_LAYER_C2PA_MANIFEST]:
    'a C2PA manifest must be signed with a certificate; none is configured on this processor',
};

export interface Protection {
  layers: LayerOutcome[];
  /** The protected image as PNG, or undefined when no layer was applied. */
  png?: Buffer;
  verifiedWatermarkText: string;
  verifiedSteganoMessage: string;
}

function outcome(layer: ProtectionLayer, status: LayerStatus, reason: string): LayerOutcome {
  return { layer, status, reason };
}

/**
 * Applies the requested layers to a working copy no larger than `maxStageDim`, in a fixed
 * order (watermark before the LSB stegano layer, which must come last to stay exact), then
 * reads the marks back from the encoded PNG to prove they are recoverable.
 */
export async function protectImage(file: string, options: ProtectionOptions, maxStageDim: number): Promise<Protection> {
  const requested = options.includeProtection ? [...new Set(options.layers)].sort((a, b) => a - b) : [];
  const layers: LayerOutcome[] = [];
  let raw: RawImage | undefined;
  for (const layer of requested) {
    const skip = SKIP_REASONS[layer];
    if (skip) {
      layers.push(outcome(layer, LayerStatus.LAYER_STATUS_SKIPPED, skip));
      continue;
    }
    raw ??= await decodeRaw(file, maxStageDim);
    try {
      if (layer === ProtectionLayer.PROTECTION_LAYER_INVISIBLE_WATERMARK) {
        const text = options.watermark?.text || 'artscraper';
        raw = embedWatermark(raw, text, options.watermark?.strength ?? 0.5);
        layers.push(outcome(layer, LayerStatus.LAYER_STATUS_APPLIED, 'blind block-DC watermark carrying watermark_text'));
      } else if (layer === ProtectionLayer.PROTECTION_LAYER_STEGANO_EMBED) {
        raw = embedStegano(raw, options.steganoMessage || 'Protected by artscraper');
        layers.push(outcome(layer, LayerStatus.LAYER_STATUS_APPLIED, 'LSB steganography carrying stegano_message'));
      } else {
        layers.push(outcome(layer, LayerStatus.LAYER_STATUS_SKIPPED, 'unknown protection layer'));
      }
    } catch (err) {
      layers.push(outcome(layer, LayerStatus.LAYER_STATUS_FAILED, (err as Error).message));
    }
  }
  const applied = layers.some((l) => l.status === LayerStatus.LAYER_STATUS_APPLIED);
  if (!applied || !raw) return { layers, verifiedWatermarkText: '', verifiedSteganoMessage: '' };
  const png = await encodePng(raw);
  const decoded = await decodeRaw(png);
  return {
    layers,
    png,
    verifiedWatermarkText: extractWatermark(decoded) ?? '',
    verifiedSteganoMessage: extractStegano(decoded) ?? '',
  };
}
