import { RawImage, decodeRaw } from './decode';

/** A file whose header read well but whose pixels do not decode (a truncated or corrupt body). */
export class UndecodableImageError extends Error {
  override name = 'UndecodableImageError';
}

/**
 * A job's full-resolution pixels, decoded at most once for all the stages that read them
 * (hashes, stegano analysis, protection, in place), and released once the output is
 * written, so that the read-back decode does not hold a second full-size copy beside it.
 */
export class DecodedImage {
  private pending: Promise<RawImage> | undefined;
  private released = false;

  constructor(
    readonly path: string,
    private readonly maxPixels: number,
  ) {}

  pixels(): Promise<RawImage> {
    // Decoding again after a release would hand out the unmarked original as if it were marked.
    if (this.released) throw new Error('the pixels were released');
    this.pending ??= decodeRaw(this.path, undefined, this.maxPixels).catch((err: unknown) => {
      throw new UndecodableImageError(`the image could not be decoded: ${(err as Error).message}`, { cause: err });
    });
    return this.pending;
  }

  release(): void {
    this.released = true;
    this.pending = undefined;
  }
}
