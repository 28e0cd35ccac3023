import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { S3Client } from '@aws-sdk/client-s3';
import { AddressPolicy } from '@artorizer/net-guard';
import { ArtifactInfo, JobErrorReason, JobStage, JobState, withDefaults } from '@artorizer/contract';
import { InvalidImageError, TooManyPixelsError, buildAnalysis, describeImage, pixelAnalysis } from './analyze';
import { FetchError, S3ReferencePolicy, fetchReference } from './fetch-reference';
import { HashedFile, IngestedFile } from './ingest';
import { JobRecord } from './job-record';
import { JobTable } from './job-table';
import { PROTECTED_NAMES } from './protect';
import { UndecodableImageError } from '../image/decoded-image';
import { PixelPool } from '../image/pixel-thread';
import { Workspace } from './workspace';
import { ArtifactStore } from './artifact-store';
import { Logger } from '../logger';

export interface PipelineDeps {
  jobs: JobTable;
  workspace: Workspace;
  maxImageBytes: number;
  /** Images with more pixels fail before they are decoded (MAX_IMAGE_PIXELS). */
  maxImagePixels: number;
  fetchTimeoutMs: number;
  /** Addresses image URLs may be fetched from (IMAGE_URL_ALLOWLIST and the object store's host). */
  addresses: AddressPolicy;
  /** The processor's own store, for HTTP references into it (see fetch-reference's storeUrlAllowed). */
  storePolicy?: S3ReferencePolicy;
  /** Threads that do the pixel work off the event loop. */
  pixels: PixelPool;
  s3?: S3Client;
  /** Set when the processor writes artifacts to an object store. */
  artifacts?: ArtifactStore;
  log: Logger;
}

/** Artifacts go to the store under these names. */
export const STORED_ARTIFACT_NAMES = [...PROTECTED_NAMES, 'analysis.json'];

class StoreFailed extends Error {}

class JobCancelled extends Error {}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(fs.createReadStream(path), hash);
  return hash.digest('hex');
}

/** The received file with its sha256, read back when the upload did not declare one. */
async function withSha256(file: IngestedFile): Promise<HashedFile> {
  return { ...file, sha256: file.sha256 ?? (await sha256Of(file.path)) };
}

/** Records a file already in the job's folder as an artifact, and copies it to the object store if there is one. */
async function addArtifact(deps: PipelineDeps, record: JobRecord, variant: string, name: string, contentType: string): Promise<void> {
  const path = deps.workspace.jobFile(record.id, name);
  const { size } = await fs.promises.stat(path);
  let location: ArtifactInfo['location'];
  if (deps.artifacts) {
    try {
      location = await deps.artifacts.put(record.id, name, path, size, contentType);
    } catch (err) {
      throw new StoreFailed(`writing ${variant} to the object store failed: ${(err as Error).name}`, { cause: err });
    }
  }
  const info: ArtifactInfo = {
    variant,
    contentType,
    sizeBytes: size,
    sha256: await sha256Of(path),
    location,
  };
  record.artifacts.set(variant, { info, path, fileName: name });
}

async function obtainImage(deps: PipelineDeps, record: JobRecord, signal: AbortSignal): Promise<IngestedFile> {
  if (record.source.kind === 'upload') {
    const file = record.source.file;
    try {
      file.path = await deps.workspace.adopt(file.path, record.id, 'original');
    } catch (err) {
      await deps.workspace.discard(file.path);
      throw err;
    }
    return file;
  }
  const incoming = deps.workspace.incomingPath();
  const fetched = await fetchReference(record.source.reference, incoming, {
    maxBytes: deps.maxImageBytes,
    declaredSize: record.spec.image?.sizeBytes,
    declaredSha256: record.spec.image?.sha256,
    timeoutMs: deps.fetchTimeoutMs,
    addresses: deps.addresses,
    store: deps.storePolicy,
    signal,
    s3: deps.s3,
  });
  const path = await deps.workspace.adopt(incoming, record.id, 'original');
  return { ...fetched, path };
}

/** Runs one job from its image to its artifacts, publishing each stage. */
export async function runJob(record: JobRecord, deps: PipelineDeps): Promise<void> {
  const { jobs } = deps;
  const signal = record.abort.signal;
  const step = (stage: JobStage) => {
    if (signal.aborted) throw new JobCancelled();
    jobs.enterStage(record, stage);
  };
  const spec = withDefaults(record.spec);
  try {
    if (record.source.kind === 'reference') step(JobStage.JOB_STAGE_FETCHING);
    const file = await withSha256(await obtainImage(deps, record, signal));
    step(JobStage.JOB_STAGE_DECODING);
    const { info: image, contentType } = await describeImage(file, deps.maxImagePixels);
    step(JobStage.JOB_STAGE_ANALYZING);
    let protecting = false;
    const enterProtecting = () => {
      if (protecting || signal.aborted) return;
      protecting = true;
      jobs.enterStage(record, JobStage.JOB_STAGE_PROTECTING);
    };
    const work = await deps.pixels.run(
      { path: file.path, maxPixels: deps.maxImagePixels, ...pixelAnalysis(spec.analysis), protection: spec.protection, originalFormat: image.format, jobDir: deps.workspace.jobDir(record.id) },
      { signal, onProtecting: enterProtecting },
    );
    if (signal.aborted) throw new JobCancelled();
    enterProtecting();
    const analysis = buildAnalysis(image, spec.analysis, work);
    const protection = work.protection;
    step(JobStage.JOB_STAGE_STORING);
    const original: ArtifactInfo = {
      variant: 'original',
      contentType,
      sizeBytes: file.sizeBytes,
      sha256: file.sha256,
      location: undefined,
    };
    if (record.source.kind === 'reference' && record.source.reference.location?.$case === 's3') original.location = record.source.reference;
    record.artifacts.set('original', { info: original, path: file.path, fileName: record.spec.image?.filename || 'original' });
    if (protection.output) await addArtifact(deps, record, 'protected', protection.output.name, protection.output.contentType);
    const report = { job_id: record.id, analysis, layers: protection.layers };
    await fs.promises.writeFile(deps.workspace.jobFile(record.id, 'analysis.json'), JSON.stringify(report, null, 2));
    await addArtifact(deps, record, 'analysis', 'analysis.json', 'application/json');
    if (signal.aborted) throw new JobCancelled();
    record.result = {
      jobId: record.id,
      analysis,
      layers: protection.layers,
      artifacts: [...record.artifacts.values()].map((a) => a.info),
      verifiedWatermarkText: protection.verifiedWatermarkText,
      verifiedSteganoMessage: protection.verifiedSteganoMessage,
    };
    jobs.finish(record, JobState.JOB_STATE_COMPLETED);
  } catch (err) {
    // A job that did not complete has nothing to download: its files go now, not at eviction.
    record.artifacts.clear();
    await removeJobFiles(deps, record.id).catch((cleanupErr: unknown) => deps.log.warn({ err: cleanupErr, jobId: record.id }, "removing an unfinished job's files failed"));
    if (err instanceof JobCancelled || signal.aborted) return;
    const error = failure(err);
    if (error.reason === JobErrorReason.JOB_ERROR_REASON_INTERNAL) deps.log.error({ err, jobId: record.id }, 'job failed');
    jobs.finish(record, JobState.JOB_STATE_FAILED, error);
  }
}

/** A job's files, local and stored: at its end when it did not complete, at eviction when it did. */
export async function removeJobFiles(files: { workspace: Workspace; artifacts?: ArtifactStore }, jobId: string): Promise<void> {
  await files.workspace.removeJob(jobId);
  await files.artifacts?.removeJob(jobId, STORED_ARTIFACT_NAMES);
}

function failure(err: unknown): { reason: JobErrorReason; message: string } {
  if (err instanceof TooManyPixelsError) return { reason: JobErrorReason.JOB_ERROR_REASON_TOO_LARGE, message: err.message };
  if (err instanceof InvalidImageError || err instanceof UndecodableImageError) return { reason: JobErrorReason.JOB_ERROR_REASON_INVALID_IMAGE, message: err.message };
  if (err instanceof FetchError) return { reason: err.reason, message: err.message };
  if (err instanceof StoreFailed) return { reason: JobErrorReason.JOB_ERROR_REASON_STORE_FAILED, message: err.message };
  return { reason: JobErrorReason.JOB_ERROR_REASON_INTERNAL, message: 'processing failed inside the processor' };
}
