import sharp from 'sharp';

// Each file is decoded once per job: libvips' cache would only keep earlier jobs' pixels in
// memory and their deleted files open on disk.
sharp.cache(false);
// Inputs are sniffed as raster images before sharp sees them; the loaders of what is not one
// stay off for any path that forgets to: SVG is markup librsvg renders (and what it links to),
// VIPS libvips' own format.
sharp.block({ operation: ['VipsForeignLoadSvg', 'VipsForeignLoadVips'] });

/** Interleaved 8-bit pixels, row-major, `channels` bytes per pixel. */
export interface RawImage {
  data: Buffer;
  width: number;
  height: number;
  channels: number;
}

/** Throws unless `raw` is a consistent 8-bit RGB or RGBA buffer. */
export function assertRgbImage(raw: RawImage): asserts raw is RawImage & { channels: 3 | 4 } {
  const { width, height, channels, data } = raw;
  if (channels !== 3 && channels !== 4) {
    throw new Error(`expected 3 or 4 channels, got ${channels}`);
  }
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new Error(`invalid image size ${width}x${height}`);
  }
  if (data.length !== width * height * channels) {
    throw new Error(`pixel buffer is ${data.length} bytes, expected ${width * height * channels}`);
  }
}

/**
 * Decodes an image file or buffer to 8-bit sRGB(A) raw pixels, applying the
 * EXIF orientation and optionally shrinking so that max(width, height) <= maxDim.
 * `maxPixels` makes sharp refuse, before decoding, an image with more pixels than that.
 */
export async function decodeRaw(input: string | Buffer, maxDim?: number, maxPixels?: number): Promise<RawImage> {
  let pipeline = sharp(input, maxPixels === undefined ? {} : { limitInputPixels: maxPixels }).rotate();
  if (maxDim !== undefined) {
    if (!Number.isInteger(maxDim) || maxDim < 1) throw new Error(`invalid maxDim ${maxDim}`);
    pipeline = pipeline.resize(maxDim, maxDim, { fit: 'inside', withoutEnlargement: true });
  }
  // toColourspace('srgb') turns grey / CMYK into 3 colour channels (alpha kept).
  const { data, info } = await pipeline.toColourspace('srgb').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  const raw: RawImage = { data, width: info.width, height: info.height, channels: info.channels };
  assertRgbImage(raw);
  return raw;
}

/** Output encodings the processor writes: PNG is lossless; JPEG at this quality keeps the block watermark. */
export type OutputFormat = 'png' | 'jpeg';
export const JPEG_OUTPUT_QUALITY = 95;

function encoderOf(raw: RawImage, format: OutputFormat): sharp.Sharp {
  assertRgbImage(raw);
  // Pixels are sRGB after decodeRaw, so the output says so: colour-managed viewers show
  // what the artist saw, even where the original carried another profile.
  const image = sharp(raw.data, { raw: { width: raw.width, height: raw.height, channels: raw.channels } }).withIccProfile('srgb');
  return format === 'png' ? image.png() : image.jpeg({ quality: JPEG_OUTPUT_QUALITY, chromaSubsampling: '4:4:4', optimiseCoding: false });
}

/** Losslessly encodes raw RGB(A) pixels as PNG. */
export async function encodePng(raw: RawImage): Promise<Buffer> {
  return encoderOf(raw, 'png').toBuffer();
}

/** Encodes raw RGB(A) pixels into `file` (JPEG drops alpha onto black; callers choose PNG for alpha). */
export async function writeImage(raw: RawImage, format: OutputFormat, file: string): Promise<void> {
  await encoderOf(raw, format).toFile(file);
}
