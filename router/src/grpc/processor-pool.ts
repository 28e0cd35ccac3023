import {
  ChannelCredentials,
  ClientReadableStream,
  ClientWritableStream,
  Metadata,
  ServiceError,
  credentials,
  makeGenericClientConstructor,
  status as GrpcStatus,
} from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import {
  DownloadArtifactResponse,
  GetJobResultResponse,
  ImageReference,
  Job,
  JobSpec,
  ProcessorServiceClient,
  SubmitJobRequest,
  createProcessorClient,
  SubmitJobResponse,
  WatchJobResponse,
} from '@artorizer/contract';
import { Metrics } from '../metrics';
import { ApiKey } from '../security/api-keys';

/** Per-request context carried to the processor. */
export interface CallContext {
  requestId: string;
  /** The API key the request came with; undefined on an open router. */
  key?: ApiKey;
}

interface Endpoint {
  address: string;
  client: ProcessorServiceClient;
  health: HealthClient;
}

interface HealthClient {
  check(req: { service: string }, md: Metadata, opts: { deadline: Date }, cb: (err: ServiceError | null, res?: { status: string | number }) => void): void;
  close(): void;
}

const CHANNEL_OPTIONS = {
  'grpc.keepalive_time_ms': 60_000,
  'grpc.keepalive_timeout_ms': 20_000,
  'grpc.max_receive_message_length': 8 * 1024 * 1024,
  // grpc-js keeps messages that fit this buffer for transparent retries and calls their write
  // callbacks before they are sent; SubmitJob chunks are sent from reused buffers, so a write
  // callback must mean the bytes are gone (an upload cut by a lost connection is answered 503).
  'grpc.per_rpc_retry_buffer_size': 0,
};

const HealthClientCtor = makeGenericClientConstructor(healthService, 'Health');
const OWNER_CACHE_LIMIT = 100_000;

function notFound(jobId: string): ServiceError {
  return Object.assign(new Error(`job ${JSON.stringify(jobId)} not found`), {
    code: GrpcStatus.NOT_FOUND,
    details: `job ${JSON.stringify(jobId)} not found`,
    metadata: new Metadata(),
  });
}

/**
 * One long-lived channel per processor address, round-robin for new jobs, and a memory of
 * which processor owns which job (asking every processor when a job is not remembered).
 */
export class ProcessorPool {
  private readonly endpoints: Endpoint[];
  private nextIndex = 0;
  private readonly owners = new Map<string, Endpoint>();

  constructor(
    addresses: string[],
    private readonly deadlineMs: number,
    private readonly metrics: Metrics,
    /** Deadline of the streaming calls: an upload, a download, a watch (`GRPC_STREAM_DEADLINE_MS`). */
    private readonly streamDeadlineMs = 30 * 60 * 1000,
    /** Of every channel, the health checks' included: `channelCredentials(config.grpcTls)` (grpc/tls.ts). */
    channelCredentials: ChannelCredentials = credentials.createInsecure(),
  ) {
    this.endpoints = addresses.map((address) => ({
      address,
      client: createProcessorClient(address, channelCredentials, CHANNEL_OPTIONS),
      health: new HealthClientCtor(address, channelCredentials, CHANNEL_OPTIONS) as unknown as HealthClient,
    }));
  }

  close(): void {
    for (const e of this.endpoints) {
      e.client.close();
      e.health.close();
    }
  }

  private metadata(ctx: CallContext): Metadata {
    const md = new Metadata();
    md.set('x-request-id', ctx.requestId);
    return md;
  }

  private deadline(): { deadline: Date } {
    return { deadline: new Date(Date.now() + this.deadlineMs) };
  }

  private streamDeadline(): { deadline: Date } {
    return { deadline: new Date(Date.now() + this.streamDeadlineMs) };
  }

  private pick(): Endpoint {
    const endpoint = this.endpoints[this.nextIndex % this.endpoints.length];
    this.nextIndex = (this.nextIndex + 1) % this.endpoints.length;
    return endpoint;
  }

  private remember(jobId: string, endpoint: Endpoint): void {
    if (this.owners.size >= OWNER_CACHE_LIMIT) this.owners.delete(this.owners.keys().next().value!);
    this.owners.set(jobId, endpoint);
  }

  private record(method: string, err: ServiceError | null): void {
    this.metrics.grpcCalls.inc({ method, code: GrpcStatus[err ? err.code : GrpcStatus.OK] });
  }

  private unary<Res>(method: string, run: (cb: (err: ServiceError | null, res?: Res) => void) => void): Promise<Res> {
    return new Promise((resolve, reject) =>
      run((err, res) => {
        this.record(method, err);
        if (err) reject(err);
        else resolve(res as Res);
      }),
    );
  }

  /** Opens a SubmitJob stream on the next processor; `done` settles with the server's answer. */
  openUpload(ctx: CallContext): { call: ClientWritableStream<SubmitJobRequest>; done: Promise<Job> } {
    const endpoint = this.pick();
    let call!: ClientWritableStream<SubmitJobRequest>;
    const done = new Promise<Job>((resolve, reject) => {
      call = endpoint.client.submitJob(this.metadata(ctx), this.streamDeadline(), (err: ServiceError | null, res?: SubmitJobResponse) => {
        this.record('SubmitJob', err);
        if (err) return reject(err);
        this.remember(res!.job!.jobId, endpoint);
        resolve(res!.job!);
      });
    });
    return { call, done };
  }

  get addresses(): string[] {
    return this.endpoints.map((e) => e.address);
  }

  private at(address: string): Endpoint {
    const endpoint = this.endpoints.find((e) => e.address === address);
    if (!endpoint) throw new Error(`unknown processor ${address}`);
    return endpoint;
  }

  /** SubmitJobByReference on one named processor (the dispatcher chooses it). */
  async submitByReferenceAt(address: string, spec: JobSpec, reference: ImageReference, ctx: CallContext): Promise<Job> {
    const endpoint = this.at(address);
    const res = await this.unary<{ job?: Job }>('SubmitJobByReference', (cb) =>
      endpoint.client.submitJobByReference({ spec, reference }, this.metadata(ctx), this.deadline(), cb),
    );
    this.remember(res.job!.jobId, endpoint);
    return res.job!;
  }

  async getJobAt(address: string, jobId: string, ctx: CallContext): Promise<Job> {
    const endpoint = this.at(address);
    const res = await this.unary<{ job?: Job }>('GetJob', (cb) => endpoint.client.getJob({ jobId }, this.metadata(ctx), this.deadline(), cb));
    this.remember(jobId, endpoint);
    return res.job!;
  }

  async cancelAt(address: string, jobId: string, ctx: CallContext): Promise<Job> {
    const endpoint = this.at(address);
    const res = await this.unary<{ job?: Job }>('CancelJob', (cb) => endpoint.client.cancelJob({ jobId }, this.metadata(ctx), this.deadline(), cb));
    return res.job!;
  }

  watchAt(address: string, jobId: string, ctx: CallContext): ClientReadableStream<WatchJobResponse> {
    return this.at(address).client.watchJob({ jobId }, this.metadata(ctx));
  }

  async submitByReference(spec: JobSpec, reference: ImageReference, ctx: CallContext): Promise<Job> {
    const endpoint = this.pick();
    const res = await this.unary<{ job?: Job }>('SubmitJobByReference', (cb) =>
      endpoint.client.submitJobByReference({ spec, reference }, this.metadata(ctx), this.deadline(), cb),
    );
    this.remember(res.job!.jobId, endpoint);
    return res.job!;
  }

  /** The processor that owns a job: remembered, or found by asking each processor. */
  private async owner(jobId: string, ctx: CallContext): Promise<Endpoint> {
    const known = this.owners.get(jobId);
    if (known) return known;
    const answers = await Promise.allSettled(
      this.endpoints.map((e) =>
        this.unary<{ job?: Job }>('GetJob', (cb) => e.client.getJob({ jobId }, this.metadata(ctx), this.deadline(), cb)).then(() => e),
      ),
    );
    const found = answers.find((a): a is PromiseFulfilledResult<Endpoint> => a.status === 'fulfilled');
    if (found) {
      this.remember(jobId, found.value);
      return found.value;
    }
    const failure = answers.map((a) => (a as PromiseRejectedResult).reason as ServiceError).find((e) => e.code !== GrpcStatus.NOT_FOUND);
    throw failure ?? notFound(jobId);
  }

  async getJob(jobId: string, ctx: CallContext): Promise<Job> {
    const e = await this.owner(jobId, ctx);
    const res = await this.unary<{ job?: Job }>('GetJob', (cb) => e.client.getJob({ jobId }, this.metadata(ctx), this.deadline(), cb));
    return res.job!;
  }

  async getResult(jobId: string, ctx: CallContext): Promise<GetJobResultResponse> {
    const e = await this.owner(jobId, ctx);
    return this.unary('GetJobResult', (cb) => e.client.getJobResult({ jobId }, this.metadata(ctx), this.deadline(), cb));
  }

  async cancel(jobId: string, ctx: CallContext): Promise<Job> {
    const e = await this.owner(jobId, ctx);
    const res = await this.unary<{ job?: Job }>('CancelJob', (cb) => e.client.cancelJob({ jobId }, this.metadata(ctx), this.deadline(), cb));
    return res.job!;
  }

  async watch(jobId: string, ctx: CallContext): Promise<ClientReadableStream<WatchJobResponse>> {
    const e = await this.owner(jobId, ctx);
    return e.client.watchJob({ jobId }, this.metadata(ctx), this.streamDeadline());
  }

  async download(jobId: string, variant: string, ctx: CallContext): Promise<ClientReadableStream<DownloadArtifactResponse>> {
    const e = await this.owner(jobId, ctx);
    return e.client.downloadArtifact({ jobId, variant }, this.metadata(ctx), this.streamDeadline());
  }

  /** grpc.health.v1 Check on every processor. */
  async health(): Promise<{ address: string; serving: boolean; error?: string }[]> {
    return Promise.all(
      this.endpoints.map(
        (e) =>
          new Promise<{ address: string; serving: boolean; error?: string }>((resolve) =>
            e.health.check({ service: 'artorizer.v1.ProcessorService' }, new Metadata(), this.deadline(), (err, res) =>
              resolve({
                address: e.address,
                serving: !err && (res?.status === 'SERVING' || res?.status === 1),
                error: err ? GrpcStatus[err.code] : undefined,
              }),
            ),
          ),
      ),
    );
  }
}
