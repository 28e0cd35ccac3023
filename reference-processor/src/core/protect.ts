import { LayerOutcome, LayerStatus, ProtectionLayer, ProtectionOptions } from '@artorizer/contract';
import fs from 'node:fs/promises';
import { OutputFormat, decodeRaw, writeImage } from '../image/decode';
import { DecodedImage } from '../image/decoded-image';
import { embedSteganoInPlace, extractStegano } from '../image/stegano';
import { embedWatermarkInPlace, extractWatermark } from '../image/watermark';

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

/** The protected image as written to the job's folder. */
export interface ProtectedOutput {
  path: string;
  /** Artifact name: `protected.png` or `protected.jpg`. */
  name: string;
  contentType: string;
}

export interface Protection {
  layers: LayerOutcome[];
  /** Undefined when no layer was applied. */
  output?: ProtectedOutput;
  verifiedWatermarkText: string;
  verifiedSteganoMessage: string;
}

/** Names the protected image can have, for clean-up. */
export const PROTECTED_NAMES = ['protected.png', 'protected.jpg'];

const OUTPUTS: Record<OutputFormat, { name: string; contentType: string }> = {
  png: { name: 'protected.png', contentType: 'image/png' },
  jpeg: { name: 'protected.jpg', contentType: 'image/jpeg' },
};

function outcome(layer: ProtectionLayer, status: LayerStatus, reason: string): LayerOutcome {
  return { layer, status, reason };
}

/** Applies the layers to the full-resolution pixels in place, in a fixed order (LSB stegano last, to stay exact). */
async function applyLayers(decoded: DecodedImage, options: ProtectionOptions): Promise<LayerOutcome[]> {
  const requested = options.includeProtection ? [...new Set(options.layers)].sort((a, b) => a - b) : [];
  const layers: LayerOutcome[] = [];
  for (const layer of requested) {
    const skip = SKIP_REASONS[layer];
    if (skip) {
      layers.push(outcome(layer, LayerStatus.LAYER_STATUS_SKIPPED, skip));
      continue;
    }
    const raw = await decoded.pixels();
    try {
      if (layer === ProtectionLayer.PROTECTION_LAYER_INVISIBLE_WATERMARK) {
        embedWatermarkInPlace(raw, watermarkText(options), options.watermark?.strength ?? 0.5);
        layers.push(outcome(layer, LayerStatus.LAYER_STATUS_APPLIED, 'blind block-DC watermark carrying watermark_text'));
      } else if (layer === ProtectionLayer.PROTECTION_LAYER_STEGANO_EMBED) {
        embedSteganoInPlace(raw, options.steganoMessage || 'Protected by artscraper');
        layers.push(outcome(layer, LayerStatus.LAYER_STATUS_APPLIED, 'LSB steganography carrying stegano_message'));
      } else {
        layers.push(outcome(layer, LayerStatus.LAYER_STATUS_SKIPPED, 'unknown protection layer'));
      }
    } catch (err) {
      layers.push(outcome(layer, LayerStatus.LAYER_STATUS_FAILED, (err as Error).message));
    }
  }
  return layers;
}

function watermarkText(options: ProtectionOptions): string {
  return options.watermark?.text || 'artscraper';
}

function applied(layers: LayerOutcome[], layer: ProtectionLayer): boolean {
  return layers.some((l) => l.layer === layer && l.status === LayerStatus.LAYER_STATUS_APPLIED);
}

/** Reads the marks back from the written file, as a downloader of it would. */
async function readMarks(file: string): Promise<{ watermark: string; stegano: string }> {
  const decoded = await decodeRaw(file);
  return { watermark: extractWatermark(decoded) ?? '', stegano: extractStegano(decoded) ?? '' };
}

/**
 * Applies the requested layers to the original's full-resolution pixels and writes the
 * protected image at the original's dimensions, then reads the marks back from that file.
 * The output is JPEG (quality 95) when the original is a JPEG without alpha and no LSB layer
 * was applied, and the watermark survives it; otherwise lossless PNG. See the README.
 */
export async function protectImage(
  decoded: DecodedImage,
  originalFormat: string,
  options: ProtectionOptions,
  fileFor: (name: string) => string,
): Promise<Protection> {
  const layers = await applyLayers(decoded, options);
  if (!layers.some((l) => l.status === LayerStatus.LAYER_STATUS_APPLIED)) {
    decoded.release();
    return { layers, verifiedWatermarkText: '', verifiedSteganoMessage: '' };
  }
  const watermarked = applied(layers, ProtectionLayer.PROTECTION_LAYER_INVISIBLE_WATERMARK);
  const raw = await decoded.pixels();
  const lossyFits = originalFormat === 'jpeg' && raw.channels === 3 && !applied(layers, ProtectionLayer.PROTECTION_LAYER_STEGANO_EMBED);
  let format: OutputFormat = lossyFits ? 'jpeg' : 'png';
  await writeImage(raw, format, fileFor(OUTPUTS[format].name));
  let marks = await readMarks(fileFor(OUTPUTS[format].name));
  if (format === 'jpeg' && watermarked && marks.watermark !== watermarkText(options)) {
    await fs.rm(fileFor(OUTPUTS.jpeg.name), { force: true });
    format = 'png';
    await writeImage(raw, format, fileFor(OUTPUTS[format].name));
    marks = await readMarks(fileFor(OUTPUTS[format].name));
  }
  decoded.release();
  return {
    layers,
    output: { path: fileFor(OUTPUTS[format].name), ...OUTPUTS[format] },
    verifiedWatermarkText: marks.watermark,
    verifiedSteganoMessage: marks.stegano,
  };
}
