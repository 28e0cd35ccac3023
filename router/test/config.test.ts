import { defaultWorkRoot } from '@artorizer/service-kit';
import { loadConfig } from '../src/config';

/* The router's settings as loadConfig reads them; the Redis and tus ones have their own tests. */
const store = { S3_ENDPOINT: 'http://127.0.0.1:9', S3_BUCKET: 'artorizer' };

describe('router settings', () => {
  it('keep their defaults', () => {
    expect(loadConfig({})).toMatchObject({
      port: 7000,
      host: '0.0.0.0',
      mode: 'stream',
      processorAddrs: ['127.0.0.1:50051'],
      processorHttpUrl: 'http://127.0.0.1:8000',
      processorHttpTimeoutMs: 5000,
      grpcDeadlineMs: 5000,
      requestTimeoutMs: 1_800_000,
      grpcStreamDeadlineMs: 1_800_000,
      shutdownGraceMs: 30_000,
      workRoot: defaultWorkRoot('router'),
      submitsPerMinute: 300,
      submitsPerMinutePerAddress: 1200,
      trustProxy: false,
      allowedOrigins: [],
      metricsHost: '127.0.0.1',
      inlineDispatcher: true,
    });
    expect(loadConfig({}).store).toBeUndefined();
  });

  it('time plain HTTP calls to the processor with PROCESSOR_HTTP_TIMEOUT_MS, gRPC calls with GRPC_DEADLINE_MS', () => {
    expect(loadConfig({ PROCESSOR_HTTP_TIMEOUT_MS: '1500', GRPC_DEADLINE_MS: '700' })).toMatchObject({ processorHttpTimeoutMs: 1500, grpcDeadlineMs: 700 });
    expect(loadConfig({ GRPC_DEADLINE_MS: '700' }).processorHttpTimeoutMs).toBe(5000);
  });

  it('derive defaults from other settings', () => {
    expect(loadConfig({ REQUEST_TIMEOUT_MS: '60000' }).grpcStreamDeadlineMs).toBe(60_000);
    expect(loadConfig({ RATE_LIMIT_SUBMITS_PER_MINUTE: '10' }).submitsPerMinutePerAddress).toBe(40);
    expect(loadConfig(store).mode).toBe('auto');
    expect(loadConfig({ ...store, PROCESSOR_HTTP_URL: 'http://proc:8000/' }).processorHttpUrl).toBe('http://proc:8000');
  });

  it('read the former name SPOOL_DIR when WORK_DIR is unset', () => {
    expect(loadConfig({ SPOOL_DIR: '/srv/spool' }).workRoot).toBe('/srv/spool');
    expect(loadConfig({ WORK_DIR: '/srv/work', SPOOL_DIR: '/srv/spool' }).workRoot).toBe('/srv/work');
  });

  it('read the store once: AWS_REGION when S3_REGION is unset, credentials only as a pair, the public endpoint defaulting to the endpoint', () => {
    expect(loadConfig({ ...store, AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'id' }).store).toEqual({
      endpoint: 'http://127.0.0.1:9',
      publicEndpoint: 'http://127.0.0.1:9',
      region: 'eu-west-1',
      bucket: 'artorizer',
      partBytes: 8 * 1024 * 1024,
      queueSize: 2,
      credentials: undefined,
    });
    expect(loadConfig({ S3_BUCKET: 'mine', S3_REGION: 'us-west-2', AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'id', AWS_SECRET_ACCESS_KEY: 'secret' }).store).toMatchObject({
      endpoint: undefined,
      region: 'us-west-2',
      bucket: 'mine',
      credentials: { accessKeyId: 'id', secretAccessKey: 'secret' },
    });
  });

  it.each([
    [{ PORT: '70000' }, 'PORT must be an integer between 0 and 65535, got "70000"'],
    [{ GRPC_DEADLINE_MS: '0' }, 'GRPC_DEADLINE_MS must be an integer between 1 and 2147483647, got "0"'],
    [{ PROCESSOR_HTTP_TIMEOUT_MS: 'soon' }, 'PROCESSOR_HTTP_TIMEOUT_MS must be an integer between 1 and 2147483647, got "soon"'],
    // longer than Node's timers take: it would expire at once
    [{ GRPC_STREAM_DEADLINE_MS: '2147483648' }, 'GRPC_STREAM_DEADLINE_MS must be an integer between 1000 and 2147483647, got "2147483648"'],
    [{ STORE_SWEEP_INTERVAL_SECONDS: '2147484' }, 'STORE_SWEEP_INTERVAL_SECONDS must be an integer between 1 and 2147483, got "2147484"'],
    [{ ...store, S3_PART_SIZE: String(4 * 1024 * 1024) }, 'S3_PART_SIZE must be an integer of at least 5242880, got "4194304"'],
    [{ S3_BUCKET: 'ab' }, 'S3_BUCKET must have at least 3 characters'],
    [{ TRANSFER_MODE: 'fast' }, 'TRANSFER_MODE must be one of stream, s3, direct, auto, legacy, got "fast"'],
    [{ TRANSFER_MODE: 's3' }, 'TRANSFER_MODE=s3 needs an object store'],
    [{ ...store, S3_REFERENCE: 'url' }, 'S3_REFERENCE must be "presigned" or "key", got "url"'],
    [{ PROCESSOR_ADDR: ' , ' }, 'PROCESSOR_ADDR must name at least one host:port'],
    [{ PROCESSOR_HTTP_URL: 'processor:8000' }, 'PROCESSOR_HTTP_URL must be an http:// or https:// URL, got "processor:8000"'],
    [{ PROCESSOR_HTTP_URL: 'not a url' }, 'PROCESSOR_HTTP_URL must be an http:// or https:// URL, got "not a url"'],
    [{ TRANSFER_MODE: 'legacy', API_KEYS_FILE: '/keys' }, 'API_KEYS_FILE needs a TRANSFER_MODE that records who owns a job'],
    [{ DISPATCHER: 'of' }, 'DISPATCHER must be "inline" or "off", got "of"'],
    [{ IMAGE_URL_ALLOWLIST: '10.0.0.0/99' }, 'IMAGE_URL_ALLOWLIST has an entry that is not a host, IP or CIDR range'],
  ])('refuse to start on %j, naming the setting', (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });
});
