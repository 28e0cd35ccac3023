import { loadConfig } from '../src/config';

/* The processor's settings as loadConfig reads them; the former names are tested in security/leftovers.test.ts. */
describe('processor settings', () => {
  it('keep their defaults, some of them other than the router for the same variable', () => {
    expect(loadConfig({})).toMatchObject({
      host: '0.0.0.0',
      httpHost: '0.0.0.0',
      grpcPort: 50051,
      httpPort: 8000,
      httpTls: false,
      maxImageBytes: 256 * 1024 * 1024,
      concurrency: 2,
      shutdownGraceMs: 10_000,
      jobRetentionMs: 86_400_000,
      imageUrlAllowlist: [],
      s3ReferencePrefixes: ['uploads/'],
    });
    expect(loadConfig({}).s3).toBeUndefined();
  });

  it('read the store with the same declarations as the router: AWS_REGION when S3_REGION is unset', () => {
    expect(loadConfig({ S3_ENDPOINT: 'http://127.0.0.1:9', AWS_REGION: 'eu-west-1' }).s3).toEqual({
      endpoint: 'http://127.0.0.1:9',
      region: 'eu-west-1',
      bucket: 'artorizer',
      credentials: undefined,
    });
  });

  it.each([
    [{ HTTP_PORT: '-2' }, 'HTTP_PORT must be an integer between -1 and 65535, got "-2"'],
    [{ PROCESSOR_CONCURRENCY: '65' }, 'PROCESSOR_CONCURRENCY must be an integer between 1 and 64, got "65"'],
    [{ MAX_IMAGE_SIZE: 'big' }, 'MAX_IMAGE_SIZE must be an integer of at least 1, got "big"'],
    [{ S3_BUCKET: 'ab' }, 'S3_BUCKET must have at least 3 characters'],
  ])('refuse to start on %j, naming the setting', (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });
});
