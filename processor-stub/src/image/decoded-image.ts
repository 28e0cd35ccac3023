import { RawImage, decodeRaw } from './decode';

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
    this.pending ??= decodeRaw(this.path, undefined, this.maxPixels);
    return this.pending;
  }

  release(): void {
    this.pending = undefined;
  }
}
