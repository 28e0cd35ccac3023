import { HttpJobResult, HttpJobStatus } from '@artorizer/contract';
import { CallContext } from '../core/call-context';

/** One progress event, in the original API's shape, numbered for SSE ids. */
export interface JobEvent {
  sequence: number;
  status: HttpJobStatus;
  terminal: boolean;
}

export interface ArtifactDownload {
  /** Set when the artifact is in the object store: the client is sent there instead. */
  redirect?: string;
  contentType: string;
  length: number;
  body: AsyncIterable<Buffer>;
  /** Stops the transfer when the HTTP client goes away. */
  abort(): void;
}

export type ResultAnswer = { done: true; body: HttpJobResult } | { done: false; status: HttpJobStatus };

/** Where job status, results, downloads and events come from: gRPC, or the legacy HTTP API. */
export interface JobBackend {
  status(jobId: string, ctx: CallContext): Promise<HttpJobStatus>;
  result(jobId: string, ctx: CallContext): Promise<ResultAnswer>;
  cancel(jobId: string, ctx: CallContext): Promise<HttpJobStatus>;
  download(jobId: string, variant: string, ctx: CallContext): Promise<ArtifactDownload>;
  events(jobId: string, ctx: CallContext, signal: AbortSignal): AsyncIterable<JobEvent>;
}

export const downloadPath = (jobId: string, variant: string) => `/jobs/${encodeURIComponent(jobId)}/download/${encodeURIComponent(variant)}`;
