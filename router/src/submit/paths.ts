import { IncomingMessage } from 'node:http';
import { JobSpec } from '@artorizer/contract';
import { CallContext } from '../core/call-context';
import { ObjectStore } from '../storage/object-store';
import { Accepted } from './accepted';

/** What a multipart request turned out to be: a job accepted, or fields only (they name the image). */
export type FormOutcome = { kind: 'accepted'; accepted: Accepted } | { kind: 'fields'; fields: Record<string, string> };

/** One way the image of a multipart upload reaches a processor (stream, stored, legacy). */
export interface MultipartPath {
  submit(req: IncomingMessage, ctx: CallContext): Promise<FormOutcome>;
}

/** One way an image named in the fields, not uploaded with them, reaches a processor (an upload id, a URL). */
export interface NamedImagePath {
  submit(named: unknown, fields: Record<string, unknown>, ctx: CallContext): Promise<Accepted>;
}

/** The health breaker as the submit paths see it: open while no processor serves. */
export interface Breaker {
  readonly open: boolean;
}

/** A router without a queue has no breaker: every submit tries the processors. */
export const NO_BREAKER: Breaker = { open: false };

/** How a job whose image is an object in the store reaches a processor: queued, or submitted now. */
export interface ObjectHandoff {
  readonly store: ObjectStore;
  /**
   * An object the router stored or a client uploaded. When the submit fails the object is
   * deleted, except, with `keepForRetry`, on a failure the client may retry with the same object.
   */
  submitObject(key: string, spec: JobSpec, ctx: CallContext, keepForRetry: boolean): Promise<Accepted>;
  /** A direct upload (POST /uploads, tus), already claimed: checked (exists, fits, is an image) before a processor gets it. */
  submitUpload(uploadId: string, spec: JobSpec, ctx: CallContext): Promise<Accepted>;
}
