import { RawImage, decodeRaw } from './decode';

/** A file whose header read well but whose pixels do not decode (a truncated or corrupt body). */
export class UndecodableImageError extends Error {
  override name = 'UndecodableImageError';
}

/**
 * A job's full-resolution pixels, decoded at most once for all the stages that read them
 * (hashes, stegano analysis, protection), and dropped as soon as the output is written so
 * that the read-back decode does not hold two copies at once.
 */
export class DecodedImage {
  private pending: Promise<RawImage> | undefined;

  constructor(
    readonly path: string,
    private readonly maxPixels: number,
  ) {}

  pixels(): Promise<RawImage> {
    this.pending ??= decodeRaw(this.path, undefined, this.maxPixels).catch((err: unknown) => {
      throw new UndecodableImageError(`the image could not be decoded: ${(err as Error).message}`, { cause: err });
    });
    return this.pending;
  }

  release(): void {
    this.pending = undefined;
  }
}
