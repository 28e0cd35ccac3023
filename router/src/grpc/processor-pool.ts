import { ChannelCredentials, ClientReadableStream, Metadata, ServiceError, makeGenericClientConstructor, status as GrpcStatus } from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { DownloadArtifactResponse, GetJobResultResponse, ImageReference, Job, JobSpec, ProcessorServiceClient, createProcessorClient, SubmitJobResponse, WatchJobResponse } from '@artorizer/contract';
import { Metrics } from '../metrics';
import { JobOwners, MemoryJobOwners } from './job-owners';
import { ProcessorTarget, parseProcessorTarget, resolveTarget } from './processor-targets';
import { CallContext } from '../core/call-context';
import { onFirstMessage } from './first-message';
import { GrpcTls } from '@artorizer/service-kit';
import { KEEPALIVE_MS, KEEPALIVE_TIMEOUT_MS, MAX_RECEIVE_MESSAGE_BYTES, SubmitJobChannel, UploadCall } from './submit-job-channel';
import { channelCredentials } from './tls';
import { serviceError } from './service-error';

interface Endpoint {
  address: string;
  client: ProcessorServiceClient;
  health: HealthClient;
  /** SubmitJob without grpc-js (submit-job-channel.ts); every other call goes through `client`. */
  uploads: SubmitJobChannel;
}

/**
 * DNS names in PROCESSOR_ADDR are looked up again at most this often (ms): each health round
 * (HEALTH_CHECK_INTERVAL_MS, 1 s by default) gets a fresh answer, a burst of readiness probes
 * does not become a burst of DNS queries.
 */
export const DNS_LOOKUP_MIN_INTERVAL_MS = 500;

/** Where new jobs go: one processor, or a DNS name balanced by grpc-js over the addresses it resolves to. */
interface Balancer {
  target: ProcessorTarget;
  client: ProcessorServiceClient;
}

interface HealthClient {
  check(req: { service: string }, md: Metadata, opts: { deadline: Date }, cb: (err: ServiceError | null, res?: { status: string | number }) => void): void;
  close(): void;
}

const CHANNEL_OPTIONS = {
  'grpc.keepalive_time_ms': KEEPALIVE_MS,
  'grpc.keepalive_timeout_ms': KEEPALIVE_TIMEOUT_MS,
  'grpc.max_receive_message_length': MAX_RECEIVE_MESSAGE_BYTES,
  // grpc-js keeps messages that fit this buffer for transparent retries and calls their write
  // callbacks before they are sent; SubmitJob chunks (uploads to a DNS name) are sent from reused
  // buffers, so a write callback must mean the bytes are gone (an upload cut by a lost connection is answered 503).
  'grpc.per_rpc_retry_buffer_size': 0,
};

const BALANCED_OPTIONS = { ...CHANNEL_OPTIONS, 'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }) };

const HealthClientCtor = makeGenericClientConstructor(healthService, 'Health');

function notFound(jobId: string): ServiceError {
  return serviceError(GrpcStatus.NOT_FOUND, `job ${JSON.stringify(jobId)} not found`);
}

/**
 * Channels to the processors named by PROCESSOR_ADDR (addresses, or DNS names balanced by
 * grpc-js's round_robin), round-robin between entries for new jobs, and a record of which
 * processor owns which job: in Redis when the router has it (every router and dispatcher
 * reads the same), otherwise in memory, asking every processor when a job is not remembered.
 */
export class ProcessorPool {
  private readonly balancers: Balancer[];
  private readonly endpoints = new Map<string, Endpoint>();
  private resolved: string[];
  private readonly lastResolved = new Map<string, string[]>();
  private refreshing?: Promise<void>;
  private closed = false;
  private lookedUpAt = -Infinity;
  private nextIndex = 0;
  private owners: JobOwners = new MemoryJobOwners();
  private readonly channelCredentials: ChannelCredentials;

  constructor(
    entries: string[],
    private readonly deadlineMs: number,
    private readonly metrics: Metrics,
    /** Deadline of the streaming calls: an upload, a download, a watch (`GRPC_STREAM_DEADLINE_MS`). */
    private readonly streamDeadlineMs = 30 * 60 * 1000,
    /** TLS of every connection, the health checks' included (`config.grpcTls`); plaintext without. */
    private readonly tls?: GrpcTls,
  ) {
    this.channelCredentials = channelCredentials(tls);
    this.balancers = entries.map(parseProcessorTarget).map((target) => ({
      target,
      client: target.kind === 'address' ? this.endpoint(target.address).client : createProcessorClient(target.target, this.channelCredentials, BALANCED_OPTIONS),
    }));
    this.resolved = this.balancers.flatMap((b) => (b.target.kind === 'address' ? [b.target.address] : []));
  }

  /** Job owners shared through Redis (RedisJobOwners) instead of this process's memory. */
  shareOwners(owners: JobOwners): void {
    this.owners = owners;
  }

  close(): void {
    this.closed = true;
    for (const b of this.balancers) if (b.target.kind === 'dns') b.client.close();
    for (const e of this.endpoints.values()) {
      e.client.close();
      e.health.close();
      e.uploads.close();
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

  /** The channels of one processor address, opened on first use (a DNS name's addresses are learnt as it resolves). */
  private endpoint(address: string): Endpoint {
    let endpoint = this.endpoints.get(address);
    if (!endpoint) {
      endpoint = {
        address,
        client: createProcessorClient(address, this.channelCredentials, CHANNEL_OPTIONS),
        health: new HealthClientCtor(address, this.channelCredentials, CHANNEL_OPTIONS) as unknown as HealthClient,
        uploads: new SubmitJobChannel(address, this.tls),
      };
      this.endpoints.set(address, endpoint);
    }
    return endpoint;
  }

  private pick(): Balancer {
    const balancer = this.balancers[this.nextIndex % this.balancers.length];
    this.nextIndex = (this.nextIndex + 1) % this.balancers.length;
    return balancer;
  }

  /** The processor a new job landed on: the entry's address, or the peer grpc-js's balancer chose. */
  private static landedOn(balancer: Balancer, call: { getPeer(): string }): string {
    return balancer.target.kind === 'address' ? balancer.target.address : call.getPeer();
  }

  /**
   * Records a new job's owner before the job is answered: a job nobody can find again is not
   * accepted, and the caller gets UNAVAILABLE to retry. A job without an idempotency key is
   * cancelled (the retry makes a new one). A keyed job is left running: the retry, with the same
   * key, gets that job back from the processor and records its owner then; cancelling it would
   * hand the retry a cancelled job (the dispatcher's jobs are all keyed).
   */
  private async adopt(job: Job, address: string, ctx: CallContext): Promise<Job> {
    try {
      await this.owners.set(job.jobId, address);
      return job;
    } catch (err) {
      if (!job.idempotencyKey) await this.cancelAt(address, job.jobId, ctx).catch(() => undefined);
      throw serviceError(GrpcStatus.UNAVAILABLE, `the job's processor could not be recorded: ${(err as Error).message}`);
    }
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
  openUpload(ctx: CallContext): { call: UploadCall; done: Promise<Job> } {
    const balancer = this.pick();
    if (balancer.target.kind === 'address') {
      const address = balancer.target.address;
      const { call, answer } = this.endpoint(address).uploads.open({
        metadata: { 'x-request-id': ctx.requestId },
        deadlineMs: this.streamDeadlineMs,
        onStatus: (err) => this.record('SubmitJob', err),
      });
      return { call, done: answer.then((res) => this.adopt(res.job!, address, ctx)) };
    }
    let call!: UploadCall & { getPeer(): string };
    const answered = new Promise<Job>((resolve, reject) => {
      // settled by the answer's message, without waiting for the trailers; the status is still recorded
      const early = onFirstMessage<SubmitJobResponse>((res) => resolve(res.job!));
      call = balancer.client.submitJob(this.metadata(ctx), { ...this.streamDeadline(), interceptors: [early] }, (err: ServiceError | null, res?: SubmitJobResponse) => {
        this.record('SubmitJob', err);
        if (err) reject(err);
        else resolve(res!.job!);
      });
    });
    const done = answered.then((job) => this.adopt(job, ProcessorPool.landedOn(balancer, call), ctx));
    return { call, done };
  }

  /** Every processor address known now: the listed ones and what the DNS names resolved to at the last health round. */
  get addresses(): string[] {
    return this.resolved;
  }

  /** SubmitJobByReference on one named processor (the dispatcher chooses it). */
  async submitByReferenceAt(address: string, spec: JobSpec, reference: ImageReference, ctx: CallContext): Promise<Job> {
    const endpoint = this.endpoint(address);
    const res = await this.unary<{ job?: Job }>('SubmitJobByReference', (cb) => endpoint.client.submitJobByReference({ spec, reference }, this.metadata(ctx), this.deadline(), cb));
    return this.adopt(res.job!, address, ctx);
  }

  async getJobAt(address: string, jobId: string, ctx: CallContext): Promise<Job> {
    const endpoint = this.endpoint(address);
    const res = await this.unary<{ job?: Job }>('GetJob', (cb) => endpoint.client.getJob({ jobId }, this.metadata(ctx), this.deadline(), cb));
    return res.job!;
  }

  async cancelAt(address: string, jobId: string, ctx: CallContext): Promise<Job> {
    const endpoint = this.endpoint(address);
    const res = await this.unary<{ job?: Job }>('CancelJob', (cb) => endpoint.client.cancelJob({ jobId }, this.metadata(ctx), this.deadline(), cb));
    return res.job!;
  }

  /** WatchJob on one processor; without a deadline unless given one (the dispatcher follows a job as long as it runs). */
  watchAt(address: string, jobId: string, ctx: CallContext, options: { deadline?: Date } = {}): ClientReadableStream<WatchJobResponse> {
    return this.endpoint(address).client.watchJob({ jobId }, this.metadata(ctx), options);
  }

  async submitByReference(spec: JobSpec, reference: ImageReference, ctx: CallContext): Promise<Job> {
    const balancer = this.pick();
    let call!: { getPeer(): string };
    const res = await this.unary<{ job?: Job }>('SubmitJobByReference', (cb) => {
      call = balancer.client.submitJobByReference({ spec, reference }, this.metadata(ctx), this.deadline(), cb);
    });
    return this.adopt(res.job!, ProcessorPool.landedOn(balancer, call), ctx);
  }

  /**
   * The processor that owns a job: from the owner record; without Redis, when this process
   * has not seen the job, by asking every processor (one GetJob each, once per job and router).
   */
  private async owner(jobId: string, ctx: CallContext): Promise<string> {
    const known = await this.owners.get(jobId).catch((err: Error) => {
      throw serviceError(GrpcStatus.UNAVAILABLE, `job owners unreadable: ${err.message}`);
    });
    if (known) return known;
    if (this.owners.shared) throw notFound(jobId);
    const answers = await Promise.allSettled(this.resolved.map((address) => this.getJobAt(address, jobId, ctx).then(() => address)));
    const found = answers.find((a): a is PromiseFulfilledResult<string> => a.status === 'fulfilled');
    if (found) {
      await this.owners.set(jobId, found.value);
      return found.value;
    }
    const failure = answers.map((a) => (a as PromiseRejectedResult).reason as ServiceError).find((e) => e.code !== GrpcStatus.NOT_FOUND);
    throw failure ?? notFound(jobId);
  }

  async getJob(jobId: string, ctx: CallContext): Promise<Job> {
    return this.getJobAt(await this.owner(jobId, ctx), jobId, ctx);
  }

  async getResult(jobId: string, ctx: CallContext): Promise<GetJobResultResponse> {
    const e = this.endpoint(await this.owner(jobId, ctx));
    return this.unary('GetJobResult', (cb) => e.client.getJobResult({ jobId }, this.metadata(ctx), this.deadline(), cb));
  }

  async cancel(jobId: string, ctx: CallContext): Promise<Job> {
    return this.cancelAt(await this.owner(jobId, ctx), jobId, ctx);
  }

  async watch(jobId: string, ctx: CallContext): Promise<ClientReadableStream<WatchJobResponse>> {
    return this.watchAt(await this.owner(jobId, ctx), jobId, ctx, this.streamDeadline());
  }

  async download(jobId: string, variant: string, ctx: CallContext): Promise<ClientReadableStream<DownloadArtifactResponse>> {
    const e = this.endpoint(await this.owner(jobId, ctx));
    return e.client.downloadArtifact({ jobId, variant }, this.metadata(ctx), this.streamDeadline());
  }

  /**
   * Resolves the DNS names again, at most once per DNS_LOOKUP_MIN_INTERVAL_MS: the health
   * rounds and every readiness probe call this, and concurrent or close calls share one lookup.
   */
  private refresh(): Promise<void> {
    if (this.refreshing) return this.refreshing;
    if (!this.balancers.some((b) => b.target.kind === 'dns')) return Promise.resolve();
    if (performance.now() - this.lookedUpAt < DNS_LOOKUP_MIN_INTERVAL_MS) return Promise.resolve();
    this.lookedUpAt = performance.now();
    this.refreshing = this.lookUp().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  /** Looks every DNS name up; a name that fails to resolve keeps its last addresses. */
  private async lookUp(): Promise<void> {
    const lists = await Promise.all(
      this.balancers.map(async ({ target }) => {
        if (target.kind === 'address') return [target.address];
        try {
          const addresses = await resolveTarget(target);
          this.lastResolved.set(target.target, addresses);
          return addresses;
        } catch {
          return this.lastResolved.get(target.target) ?? [];
        }
      }),
    );
    this.resolved = [...new Set(lists.flat())];
  }

  /** grpc.health.v1 Check on every processor (the DNS names resolved again first). */
  async health(): Promise<{ address: string; serving: boolean; error?: string }[]> {
    if (!this.closed) await this.refresh();
    // also a round that was looking names up when the pool closed: its channels are gone
    if (this.closed) throw new Error('the processor pool is closed');
    return Promise.all(
      this.resolved.map(
        (address) =>
          new Promise<{ address: string; serving: boolean; error?: string }>((resolve) =>
            this.endpoint(address).health.check({ service: 'artorizer.v1.ProcessorService' }, new Metadata(), this.deadline(), (err, res) =>
              resolve({
                address,
                serving: !err && (res?.status === 'SERVING' || res?.status === 1),
                error: err ? GrpcStatus[err.code] : undefined,
              }),
            ),
          ),
      ),
    );
  }
}
