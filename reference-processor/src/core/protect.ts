import { LayerOutcome, LayerStatus, ProtectionLayer, ProtectionOptions } from '@artorizer/contract';
import fs from 'node:fs/promises';
import { OutputFormat, decodeRaw, writeImage } from '../image/decode';
import { DecodedImage } from '../image/decoded-image';
import { embedSteganoInPlace, extractStegano } from '../image/stegano';
import { embedWatermarkInPlace, extractWatermark } from '../image/watermark';

/** Why each layer this processor cannot perform honestly is skipped. */
const SKIP_REASONS: Partial<Record<ProtectionLayer, string>> = {
  [ProtectionLayer.PROTECTION_LAYER_FAWKES]: 'Fawkes needs its face-recognition cloaking model, which this reference processor does not ship',
  [ProtectionLayer.PROTECTION_LAYER_PHOTOGUARD]: 'PhotoGuard needs a diffusion image encoder to compute its perturbation, which this reference processor does not ship',
  [ProtectionLayer.PROTECTION_LAYER_MIST]: 'Mist needs a latent diffusion model to compute its perturbation, which this reference processor does not ship',
  [ProtectionLayer.PROTECTION_LAYER_NIGHTSHADE]: 'Nightshade needs a text-to-image model to compute its poison perturbation, which this reference processor does not ship',
  [ProtectionLayer.PROTECTION_LAYER_TREE_RING]: "Tree-Ring watermarks live in a diffusion model's initial noise; this reference processor has no diffusion model",
  [ProtectionLayer.PROTECTION_LAYER_C2PA_MANIFEST]: 'a C2PA manifest must be signed with a certificate; none is configured on this processor',
};

/** The protected image as written to the job's folder. */
export interface ProtectedOutput {
  /** Artifact name in the job's folder: `protected.png` or `protected.jpg`. */
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

interface Marks {
  watermark: string;
  stegano: string;
}

/**
 * Writes the pixels as `format`, then reads the marks back from the file, as a downloader of
 * it would. With `releaseFirst` the pixels are let go before the read-back decode, so the two
 * full-size copies are not held at once.
 */
async function writeAndRead(decoded: DecodedImage, format: OutputFormat, fileFor: (name: string) => string, options = { releaseFirst: false }): Promise<Marks> {
  const file = fileFor(OUTPUTS[format].name);
  await writeImage(await decoded.pixels(), format, file);
  if (options.releaseFirst) decoded.release();
  const written = await decodeRaw(file);
  return { watermark: extractWatermark(written) ?? '', stegano: extractStegano(written) ?? '' };
}

/**
 * Applies the requested layers to the original's full-resolution pixels and writes the
 * protected image at the original's dimensions, then reads the marks back from that file.
 * The output is JPEG (quality 95) when the original is a JPEG without alpha and no LSB layer
 * was applied, and the watermark survives it; otherwise lossless PNG. See docs/reference-processor.md.
 */
export async function protectImage(decoded: DecodedImage, originalFormat: string, options: ProtectionOptions, fileFor: (name: string) => string): Promise<Protection> {
  const layers = await applyLayers(decoded, options);
  if (!layers.some((l) => l.status === LayerStatus.LAYER_STATUS_APPLIED)) {
    decoded.release();
    return { layers, verifiedWatermarkText: '', verifiedSteganoMessage: '' };
  }
  const watermarked = applied(layers, ProtectionLayer.PROTECTION_LAYER_INVISIBLE_WATERMARK);
  const rgbOnly = (await decoded.pixels()).channels === 3;
  const lossyFits = originalFormat === 'jpeg' && rgbOnly && !applied(layers, ProtectionLayer.PROTECTION_LAYER_STEGANO_EMBED);
  let format: OutputFormat = 'jpeg';
  let marks: Marks | undefined;
  if (lossyFits) {
    // The pixels are kept until the JPEG's marks are read: a PNG must be written from them if not.
    marks = await writeAndRead(decoded, format, fileFor);
    if (watermarked && marks.watermark !== watermarkText(options)) {
      await fs.rm(fileFor(OUTPUTS.jpeg.name), { force: true });
      marks = undefined;
    }
  }
  if (!marks) {
    format = 'png';
    marks = await writeAndRead(decoded, format, fileFor, { releaseFirst: true });
  }
  decoded.release();
  return {
    layers,
    output: OUTPUTS[format],
    verifiedWatermarkText: marks.watermark,
    verifiedSteganoMessage: marks.stegano,
  };
}
