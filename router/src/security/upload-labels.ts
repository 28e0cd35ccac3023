import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** The label that names the upload object a job was made from, so cancel can delete it. */
export const UPLOAD_KEY_LABEL = 'artorizer.upload_key';
/** Its HMAC under the routers' secret: proof that a router, not a SubmitJob caller, set the key. */
export const UPLOAD_SIG_LABEL = 'artorizer.upload_sig';

/**
 * Signs the upload key a router puts in a job's labels and checks it before cancel deletes the
 * object: labels travel through the processor, and anyone who can call SubmitJob sets labels,
 * so an unsigned key would let a caller have the router delete another job's object.
 * Routers that share ROUTER_SECRET accept each other's labels; without it each router has a
 * secret of its own (a job cancelled through another router then leaves its object to the
 * store's retention).
 */
export class UploadLabels {
  private readonly secret: Buffer;

  constructor(secret?: string) {
    this.secret = secret ? Buffer.from(secret) : randomBytes(32);
  }

  private sign(key: string): Buffer {
    return createHmac('sha256', this.secret).update(key).digest();
  }

  labels(key: string): Record<string, string> {
    return { [UPLOAD_KEY_LABEL]: key, [UPLOAD_SIG_LABEL]: this.sign(key).toString('base64url') };
  }

  /** The upload key the labels name, when this router's secret signed it. */
  verifiedKey(labels: Record<string, string>): string | undefined {
    const key = labels[UPLOAD_KEY_LABEL];
    const sig = Buffer.from(labels[UPLOAD_SIG_LABEL] ?? '', 'base64url');
    if (!key) return undefined;
    const expected = this.sign(key);
    return sig.length === expected.length && timingSafeEqual(sig, expected) ? key : undefined;
  }
}
