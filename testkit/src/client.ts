import { ChannelCredentials, ClientReadableStream, Metadata, ServiceError, credentials, status } from '@grpc/grpc-js';
import { ArtifactInfo, GetJobResultResponse, ImageReference, Job, JobSpec, ProcessorServiceClient, WatchJobResponse, jobSpecFromFields } from '@artorizer/contract';

/** Promise helpers over the generated client: what a real caller of the contract writes. */
export class ContractClient {
  readonly raw: ProcessorServiceClient;

  constructor(address: string) {
    this.raw = new ProcessorServiceClient(address, credentials.createInsecure());
  }

  close(): void {
    this.raw.close();
  }

  /** Sends the spec, then `data` in chunks of `chunkSize`; resolves with the accepted job. */
  submit(spec: JobSpec, data: Buffer, chunkSize = 64 * 1024): Promise<Job> {
    return this.submitMessages([{ spec }, ...chunksOf(data, chunkSize).map((chunk) => ({ chunk }))]);
  }

  /** Sends arbitrary messages in order, so tests can break the protocol on purpose. */
  submitMessages(messages: ({ spec: JobSpec } | { chunk: Buffer })[]): Promise<Job> {
    return new Promise((resolve, reject) => {
      const call = this.raw.submitJob((err, res) => (err ? reject(err) : resolve(res!.job!)));
      void (async () => {
        for (const m of messages) {
          const payload = 'spec' in m ? { $case: 'spec' as const, spec: m.spec } : { $case: 'chunk' as const, chunk: m.chunk };
          if (!call.write({ payload })) await new Promise((r) => call.once('drain', r));
        }
        call.end();
      })();
    });
  }

  submitByReference(spec: JobSpec, reference: ImageReference): Promise<Job> {
    return new Promise((resolve, reject) => this.raw.submitJobByReference({ spec, reference }, (err, res) => (err ? reject(err) : resolve(res.job!))));
  }

  getJob(jobId: string): Promise<Job> {
    return new Promise((resolve, reject) => this.raw.getJob({ jobId }, (err, res) => (err ? reject(err) : resolve(res.job!))));
  }

  getResult(jobId: string): Promise<GetJobResultResponse> {
    return new Promise((resolve, reject) => this.raw.getJobResult({ jobId }, (err, res) => (err ? reject(err) : resolve(res))));
  }

  cancel(jobId: string): Promise<Job> {
    return new Promise((resolve, reject) => this.raw.cancelJob({ jobId }, (err, res) => (err ? reject(err) : resolve(res.job!))));
  }

  /** Every event of a watch until the server ends the stream. */
  watch(jobId: string): Promise<WatchJobResponse[]> {
    return collect(this.raw.watchJob({ jobId }));
  }

  async waitForEnd(jobId: string): Promise<Job> {
    const events = await this.watch(jobId);
    return events[events.length - 1].job!;
  }

  async download(jobId: string, variant: string): Promise<{ info: ArtifactInfo; data: Buffer; chunks: number }> {
    const messages = await collect(this.raw.downloadArtifact({ jobId, variant }));
    const first = messages[0]?.payload;
    if (first?.$case !== 'info') throw new Error('first DownloadArtifact message is not info');
    const chunks = messages.slice(1).map((m) => (m.payload?.$case === 'chunk' ? m.payload.chunk : Buffer.alloc(0)));
    return { info: first.info, data: Buffer.concat(chunks), chunks: chunks.length };
  }
}

export function collect<T>(stream: ClientReadableStream<T>): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const items: T[] = [];
    stream.on('data', (item: T) => items.push(item));
    stream.on('error', reject);
    stream.on('end', () => resolve(items));
  });
}

export function chunksOf(data: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < data.length; at += size) out.push(data.subarray(at, at + size));
  return out;
}

/** A spec with the original API's defaults, as a router would build it. */
export function specFor(fields: Record<string, unknown> = {}): JobSpec {
  return jobSpecFromFields({ artist_name: 'Jane Doe', artwork_title: 'Contract Study', ...fields });
}

/** Resolves with the gRPC error a promise rejects with; fails the test if it resolves. */
export async function grpcError(promise: Promise<unknown>): Promise<ServiceError> {
  try {
    await promise;
  } catch (err) {
    return err as ServiceError;
  }
  throw new Error('expected a gRPC error, the call succeeded');
}

/**
 * GetJob of an id that does not exist: NOT_FOUND when the call reached the service, UNAVAILABLE
 * when the connection was refused (no listener, or a TLS handshake that failed).
 */
export function probeGetJob(address: string, creds: ChannelCredentials = credentials.createInsecure()): Promise<ServiceError> {
  const client = new ProcessorServiceClient(address, creds);
  return grpcError(
    new Promise((resolve, reject) =>
      client.getJob({ jobId: 'no-such-job' }, new Metadata(), { deadline: new Date(Date.now() + 5000) }, (err, res) => {
        client.close();
        if (err) reject(err);
        else resolve(res);
      }),
    ),
  );
}

export { status };
