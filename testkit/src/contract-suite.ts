import sharp from 'sharp';
import { AnalysisProcessor, JobErrorReason, JobStage, JobState, LayerStatus, ProtectionLayer } from '@artorizer/contract';
import { ContractClient, grpcError, specFor, status } from './client';
import { startHttpFixture, HttpFixture } from './http-fixture';
import { makeJpeg, makePng, sha256 } from './images';
import { ContractTarget } from './target';

/**
 * The artorizer.v1 contract, checked over a real socket with the generated client, against the
 * processor `start` resolves with (started before the first test, stopped after the last).
 * Call it at the top level of a test file: it registers its hooks and its `describe` blocks
 * there, so the tests keep their names (`SubmitJob accepts a spec then chunks, ...`).
 */
export function describeProcessorContract(start: () => Promise<ContractTarget>): void {
  let target: ContractTarget;
  let client: ContractClient;
  let fixture: HttpFixture;
  let png: Buffer;

  beforeAll(async () => {
    target = await start();
    client = new ContractClient(target.address);
    png = await makePng();
    fixture = await startHttpFixture({ 'image.png': png, 'notes.txt': Buffer.from('plain text, not an image') });
  });

  afterAll(async () => {
    client.close();
    await fixture.close();
    await target.stop();
  });

  describe('SubmitJob', () => {
    it('accepts a spec then chunks, queues the job, and processes it to completion', async () => {
      const spec = specFor({ watermark_text: 'contract-mark', enable_stegano_embed: true, stegano_message: 'hidden words' });
      spec.image = { contentType: 'image/png', sizeBytes: png.length, sha256: sha256(png), filename: 'study.png' };
      const job = await client.submit(spec, png, 16 * 1024);
      expect(job.jobId).toMatch(/\S/);
      expect(job.state).toBe(JobState.JOB_STATE_QUEUED);

      const events = await client.watch(job.jobId);
      const last = events[events.length - 1];
      expect(last.terminal).toBe(true);
      expect(last.job!.state).toBe(JobState.JOB_STATE_COMPLETED);
      expect(last.job!.progress!.percent).toBe(100);
      const sequences = events.map((e) => Number(e.sequence));
      expect([...sequences].sort((a, b) => a - b)).toEqual(sequences);
      expect(new Set(sequences).size).toBe(sequences.length);

      const { result } = await client.getResult(job.jobId);
      const analysis = result!.analysis!;
      expect(analysis.image).toMatchObject({ format: 'png', width: 320, height: 240, sizeBytes: png.length, sha256: sha256(png) });
      expect(analysis.hashes!.averageHash).toMatch(/^[0-9a-f]{16}$/);
      expect(analysis.hashes!.differenceHash).toMatch(/^[0-9a-f]{16}$/);
      expect(analysis.hashes!.perceptualHash).toMatch(/^[0-9a-f]{16}$/);
      expect(analysis.hashes!.blockhash).toMatch(/^[0-9a-f]{64}$/);

      const layer = (l: ProtectionLayer) => result!.layers.find((o) => o.layer === l);
      expect(layer(ProtectionLayer.PROTECTION_LAYER_INVISIBLE_WATERMARK)?.status).toBe(LayerStatus.LAYER_STATUS_APPLIED);
      expect(layer(ProtectionLayer.PROTECTION_LAYER_STEGANO_EMBED)?.status).toBe(LayerStatus.LAYER_STATUS_APPLIED);
      for (const skipped of [ProtectionLayer.PROTECTION_LAYER_FAWKES, ProtectionLayer.PROTECTION_LAYER_NIGHTSHADE]) {
        expect(layer(skipped)?.status).toBe(LayerStatus.LAYER_STATUS_SKIPPED);
        expect(layer(skipped)?.reason).toMatch(/\w{10,}/);
      }
      expect(result!.verifiedWatermarkText).toBe('contract-mark');
      expect(result!.verifiedSteganoMessage).toBe('hidden words');
      expect(result!.artifacts.map((a) => a.variant)).toEqual(expect.arrayContaining(['original', 'protected', 'analysis']));
    });

    it('streams artifacts back in chunks, byte-exact, with their info first', async () => {
      const job = await client.submit(specFor(), png);
      await client.waitForEnd(job.jobId);
      const original = await client.download(job.jobId, 'original');
      expect(original.data.equals(png)).toBe(true);
      expect(original.info).toMatchObject({ variant: 'original', sizeBytes: png.length, sha256: sha256(png) });

      const protectedImage = await client.download(job.jobId, 'protected');
      expect(protectedImage.info.contentType).toBe('image/png');
      expect(protectedImage.data.length).toBe(protectedImage.info.sizeBytes);
      expect(sha256(protectedImage.data)).toBe(protectedImage.info.sha256);
      const meta = await sharp(protectedImage.data).metadata();
      expect(meta.format).toBe('png');
      expect(protectedImage.data.equals(png)).toBe(false);

      const report = await client.download(job.jobId, 'analysis');
      expect(JSON.parse(report.data.toString('utf8'))).toHaveProperty('analysis');
    });

    it('protects a photograph at its full resolution and reads the watermark back from the output', async () => {
      const photo = await makeJpeg(1920, 1280);
      const job = await client.submit(specFor({ watermark_text: 'full-size' }), photo);
      expect((await client.waitForEnd(job.jobId)).state).toBe(JobState.JOB_STATE_COMPLETED);
      const { result } = await client.getResult(job.jobId);
      expect(result!.verifiedWatermarkText).toBe('full-size');
      const protectedImage = await client.download(job.jobId, 'protected');
      const meta = await sharp(protectedImage.data).metadata();
      expect({ width: meta.width, height: meta.height }).toEqual({ width: 1920, height: 1280 });
      expect(meta.format).toBe(protectedImage.info.contentType === 'image/jpeg' ? 'jpeg' : 'png');
      // The reference processor keeps a JPEG a JPEG when its marks survive that (see docs/reference-processor.md).
      if (target.keepsJpeg) expect(protectedImage.info.contentType).toBe('image/jpeg');
    });

    it('writes a lossless PNG at the original dimensions when the LSB layer is applied', async () => {
      const photo = await makeJpeg(1600, 1200, 2);
      const job = await client.submit(specFor({ enable_stegano_embed: true, stegano_message: 'exact bits' }), photo);
      expect((await client.waitForEnd(job.jobId)).state).toBe(JobState.JOB_STATE_COMPLETED);
      const { result } = await client.getResult(job.jobId);
      expect(result!.verifiedSteganoMessage).toBe('exact bits');
      const protectedImage = await client.download(job.jobId, 'protected');
      expect(protectedImage.info.contentType).toBe('image/png');
      const meta = await sharp(protectedImage.data).metadata();
      expect({ format: meta.format, width: meta.width, height: meta.height }).toEqual({ format: 'png', width: 1600, height: 1200 });
    });

    it('rejects image bytes sent before the spec with INVALID_ARGUMENT', async () => {
      const err = await grpcError(client.submitMessages([{ chunk: png.subarray(0, 100) }, { spec: specFor() }]));
      expect(err.code).toBe(status.INVALID_ARGUMENT);
      expect(err.details).toMatch(/first message must be a spec/);
    });

    it('rejects a second spec with INVALID_ARGUMENT', async () => {
      const err = await grpcError(client.submitMessages([{ spec: specFor() }, { chunk: png.subarray(0, 100) }, { spec: specFor() }]));
      expect(err.code).toBe(status.INVALID_ARGUMENT);
      expect(err.details).toMatch(/second spec/);
    });

    it('rejects an empty stream and a spec without required metadata with INVALID_ARGUMENT', async () => {
      expect((await grpcError(client.submitMessages([]))).code).toBe(status.INVALID_ARGUMENT);
      const spec = specFor();
      spec.metadata!.artistName = '';
      const err = await grpcError(client.submit(spec, png));
      expect(err.code).toBe(status.INVALID_ARGUMENT);
      expect(err.details).toMatch(/artist_name/);
    });

    it('rejects an image over the size limit with RESOURCE_EXHAUSTED', async () => {
      const oversized = Buffer.alloc(target.maxImageBytes + 1);
      const err = await grpcError(client.submit(specFor(), oversized, 1024 * 1024));
      expect(err.code).toBe(status.RESOURCE_EXHAUSTED);
    });

    it('rejects a wrong sha256 or size with DATA_LOSS', async () => {
      const wrongHash = specFor();
      wrongHash.image = { contentType: 'image/png', sizeBytes: 0, sha256: 'a'.repeat(64), filename: '' };
      expect((await grpcError(client.submit(wrongHash, png))).code).toBe(status.DATA_LOSS);

      const wrongSize = specFor();
      wrongSize.image = { contentType: 'image/png', sizeBytes: png.length + 10, sha256: '', filename: '' };
      expect((await grpcError(client.submit(wrongSize, png))).code).toBe(status.DATA_LOSS);
    });

    it('fails a job whose bytes are not an image, with a clear error', async () => {
      const job = await client.submit(specFor(), Buffer.from('%PDF-1.4 this is not an image at all'));
      const end = await client.waitForEnd(job.jobId);
      expect(end.state).toBe(JobState.JOB_STATE_FAILED);
      expect(end.error!.reason).toBe(JobErrorReason.JOB_ERROR_REASON_INVALID_IMAGE);
      expect(end.error!.message).toMatch(/not a decodable image/);
      expect((await grpcError(client.getResult(job.jobId))).code).toBe(status.FAILED_PRECONDITION);
    });

    /** An upload given up with this spec left no job (its idempotency key still makes a new one) and no incoming file. */
    async function expectNoJobLeftFor(spec: ReturnType<typeof specFor>): Promise<void> {
      const other = await makePng(64, 64, 3);
      const job = await client.submit(spec, other);
      await client.waitForEnd(job.jobId);
      expect((await client.download(job.jobId, 'original')).info.sha256).toBe(sha256(other));
      const inside = target.inside;
      if (inside) {
        await expect(waitFor(() => inside.incomingFiles().length === 0)).resolves.toBe(true);
      }
    }

    it('creates no job and leaves no file when the client cancels mid-upload', async () => {
      const key = `cancelled-upload-${Date.now()}`;
      const spec = specFor({ idempotency_key: key });
      const outcome = new Promise<Error | null>((resolve) => {
        const call = client.raw.submitJob((err) => resolve(err));
        call.write({ payload: { $case: 'spec', spec } });
        call.write({ payload: { $case: 'chunk', chunk: png.subarray(0, 4096) } }, () => call.cancel());
      });
      expect(((await outcome) as { code?: number }).code).toBe(status.CANCELLED);

      await expectNoJobLeftFor(spec);
    });

    it('answers CANCELLED and creates no job when the client aborts an upload, even with the whole image sent and the stream ended', async () => {
      const key = `aborted-upload-${Date.now()}`;
      const spec = specFor({ idempotency_key: key });
      const outcome = new Promise<Error | null>((resolve) => {
        const call = client.raw.submitJob((err) => resolve(err));
        call.write({ payload: { $case: 'spec', spec } });
        call.write({ payload: { $case: 'chunk', chunk: png } });
        call.write({ payload: { $case: 'abort', abort: { reason: 'the source went away' } } });
        call.end();
      });
      const err = (await outcome) as { code?: number; details?: string } | null;
      expect(err?.code).toBe(status.CANCELLED);
      expect(err?.details).toMatch(/the source went away/);

      await expectNoJobLeftFor(spec);
    });

    it('returns the same job for a repeated idempotency key', async () => {
      const spec = specFor({ idempotency_key: `same-${Date.now()}` });
      const first = await client.submit(spec, png);
      const second = await client.submit(spec, png);
      expect(second.jobId).toBe(first.jobId);
    });
  });

  describe('SubmitJobByReference', () => {
    it('fetches an HTTP reference by streaming and completes the job', async () => {
      const spec = specFor({ processors: 'metadata,dhash' });
      const job = await client.submitByReference(spec, { location: { $case: 'http', http: { url: fixture.url('image.png') } } });
      expect(job.state).toBe(JobState.JOB_STATE_QUEUED);
      const events = await client.watch(job.jobId);
      expect(events.some((e) => e.job!.progress!.stage === JobStage.JOB_STAGE_FETCHING)).toBe(true);
      expect(events[events.length - 1].job!.state).toBe(JobState.JOB_STATE_COMPLETED);
      const { result } = await client.getResult(job.jobId);
      expect(result!.analysis!.image!.sha256).toBe(sha256(png));
      expect(result!.analysis!.hashes!.differenceHash).toMatch(/^[0-9a-f]{16}$/);
      expect(result!.analysis!.hashes!.blockhash).toBe('');
      expect(result!.analysis!.processors.map((p) => p.processor)).toEqual([AnalysisProcessor.ANALYSIS_PROCESSOR_METADATA, AnalysisProcessor.ANALYSIS_PROCESSOR_DHASH]);
    });

    it('fails the job with FETCH_FAILED when the URL answers 404', async () => {
      const job = await client.submitByReference(specFor(), { location: { $case: 'http', http: { url: fixture.url('missing.png') } } });
      const end = await client.waitForEnd(job.jobId);
      expect(end.state).toBe(JobState.JOB_STATE_FAILED);
      expect(end.error!.reason).toBe(JobErrorReason.JOB_ERROR_REASON_FETCH_FAILED);
      expect(end.error!.message).toMatch(/404/);
    });

    it('fails a referenced non-image with INVALID_IMAGE and a declared sha256 mismatch with INTEGRITY', async () => {
      const text = await client.submitByReference(specFor(), { location: { $case: 'http', http: { url: fixture.url('notes.txt') } } });
      expect((await client.waitForEnd(text.jobId)).error!.reason).toBe(JobErrorReason.JOB_ERROR_REASON_INVALID_IMAGE);

      const spec = specFor();
      spec.image = { contentType: 'image/png', sizeBytes: 0, sha256: 'b'.repeat(64), filename: '' };
      const bad = await client.submitByReference(spec, { location: { $case: 'http', http: { url: fixture.url('image.png') } } });
      expect((await client.waitForEnd(bad.jobId)).error!.reason).toBe(JobErrorReason.JOB_ERROR_REASON_INTEGRITY);
    });

    it('rejects a reference that is not an http(s) URL with INVALID_ARGUMENT', async () => {
      const ftp = await grpcError(client.submitByReference(specFor(), { location: { $case: 'http', http: { url: 'ftp://example.com/a.png' } } }));
      expect(ftp.code).toBe(status.INVALID_ARGUMENT);
      const none = await grpcError(client.submitByReference(specFor(), { location: undefined }));
      expect(none.code).toBe(status.INVALID_ARGUMENT);
    });
  });

  describe('job queries', () => {
    it('answers NOT_FOUND for an unknown job id on every RPC', async () => {
      const id = 'no-such-job';
      expect((await grpcError(client.getJob(id))).code).toBe(status.NOT_FOUND);
      expect((await grpcError(client.watch(id))).code).toBe(status.NOT_FOUND);
      expect((await grpcError(client.getResult(id))).code).toBe(status.NOT_FOUND);
      expect((await grpcError(client.cancel(id))).code).toBe(status.NOT_FOUND);
      expect((await grpcError(client.download(id, 'original'))).code).toBe(status.NOT_FOUND);
    });

    it('answers FAILED_PRECONDITION for the result of a running job, and cancels it', async () => {
      const stall = fixture.nextStall();
      const job = await client.submitByReference(specFor(), { location: { $case: 'http', http: { url: fixture.url('stall') } } });
      await stall;
      const running = await client.getJob(job.jobId);
      expect(running.state).toBe(JobState.JOB_STATE_PROCESSING);
      expect(running.progress!.stage).toBe(JobStage.JOB_STAGE_FETCHING);
      expect((await grpcError(client.getResult(job.jobId))).code).toBe(status.FAILED_PRECONDITION);
      expect((await grpcError(client.download(job.jobId, 'original'))).code).toBe(status.FAILED_PRECONDITION);

      const watching = client.watch(job.jobId);
      const cancelled = await client.cancel(job.jobId);
      expect(cancelled.state).toBe(JobState.JOB_STATE_CANCELLED);
      const events = await watching;
      expect(events[events.length - 1]).toMatchObject({ terminal: true, job: { state: JobState.JOB_STATE_CANCELLED } });
      expect((await grpcError(client.cancel(job.jobId))).code).toBe(status.FAILED_PRECONDITION);
      const inside = target.inside;
      if (inside) {
        await expect(waitFor(() => !inside.jobFilesExist(job.jobId))).resolves.toBe(true);
      }
    });

    it('gives a watch on a finished job its final event only', async () => {
      const job = await client.submit(specFor(), png);
      await client.waitForEnd(job.jobId);
      const events = await client.watch(job.jobId);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ terminal: true, job: { state: JobState.JOB_STATE_COMPLETED } });
    });

    it('answers NOT_FOUND for an artifact variant the job does not have', async () => {
      const job = await client.submit(specFor({ include_protection: false }), png);
      await client.waitForEnd(job.jobId);
      const { result } = await client.getResult(job.jobId);
      expect(result!.artifacts.map((a) => a.variant)).not.toContain('protected');
      const err = await grpcError(client.download(job.jobId, 'protected'));
      expect(err.code).toBe(status.NOT_FOUND);
    });
  });
}

/** Polls a condition the test cannot be notified about (files removed in the background). */
async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (condition()) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return condition();
}
