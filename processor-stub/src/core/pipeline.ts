import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import { S3Client } from '@aws-sdk/client-s3';
import {
  ArtifactInfo,
  JobErrorReason,
  JobStage,
  JobState,
  withDefaults,
} from '@artorizer/contract';
import { InvalidImageError, analyzeImage, describeImage } from './analyze';
import { FetchError, fetchReference } from './fetch-reference';
import { IngestedFile } from './ingest';
import { JobRecord } from './job-record';
import { JobStore } from './job-store';
import { protectImage } from './protect';
import { Workspace } from './workspace';
import { ArtifactStore } from './artifact-store';
import { Logger } from '../logger';

export interface PipelineDeps {
  store: JobStore;
  workspace: Workspace;
  maxImageBytes: number;
  fetchTimeoutMs: number;
  s3?: S3Client;
  /** Set when the processor writes artifacts to an object store. */
  artifacts?: ArtifactStore;
  log: Logger;
}

/** Artifacts go to the store under these names. */
export const STORED_ARTIFACT_NAMES = ['protected.png', 'analysis.json'];

class StoreFailed extends Error {}

const CONTENT_TYPES: Record<string, string> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  gif: 'image/gif',
  tiff: 'image/tiff',
  avif: 'image/avif',
  heif: 'image/heif',
  svg: 'image/svg+xml',
};

class JobCancelled extends Error {}

async function writeArtifact(deps: PipelineDeps, record: JobRecord, variant: string, name: string, contentType: string, data: Buffer): Promise<void> {
  const path = deps.workspace.jobFile(record.id, name);
  await fs.writeFile(path, data);
  let location: ArtifactInfo['location'];
  if (deps.artifacts) {
    try {
      location = await deps.artifacts.put(record.id, name, data, contentType);
    } catch (err) {
      throw new StoreFailed(`writing ${variant} to the object store failed: ${(err as Error).name}`, { cause: err });
    }
  }
  const info: ArtifactInfo = {
    variant,
    contentType,
    sizeBytes: data.length,
    sha256: createHash('sha256').update(data).digest('hex'),
    location,
  };
  record.artifacts.set(variant, { info, path });
}

async function obtainImage(deps: PipelineDeps, record: JobRecord, signal: AbortSignal): Promise<IngestedFile> {
  if (record.source.kind === 'upload') return record.source.file;
  const incoming = deps.workspace.incomingPath();
  const fetched = await fetchReference(record.source.reference, incoming, {
    maxBytes: deps.maxImageBytes,
    declaredSize: record.spec.image?.sizeBytes,
    declaredSha256: record.spec.image?.sha256,
    timeoutMs: deps.fetchTimeoutMs,
    signal,
    s3: deps.s3,
  });
  const path = await deps.workspace.adopt(incoming, record.id, 'original');
  return { ...fetched, path };
}

/** Runs one job from its image to its artifacts, publishing each stage. */
export async function runJob(record: JobRecord, deps: PipelineDeps): Promise<void> {
  const { store } = deps;
  const signal = record.abort.signal;
  const step = (stage: JobStage) => {
    if (signal.aborted) throw new JobCancelled();
    store.enterStage(record, stage);
  };
  const spec = withDefaults(record.spec);
  try {
    if (record.source.kind === 'reference') step(JobStage.JOB_STAGE_FETCHING);
    const file = await obtainImage(deps, record, signal);
    step(JobStage.JOB_STAGE_DECODING);
    const image = await describeImage(file);
    step(JobStage.JOB_STAGE_ANALYZING);
    const analysis = await analyzeImage(file, image, spec.analysis);
    step(JobStage.JOB_STAGE_PROTECTING);
    const protection = await protectImage(file.path, spec.protection, spec.analysis.maxStageDim || 512);
    step(JobStage.JOB_STAGE_STORING);
    const original: ArtifactInfo = {
      variant: 'original',
      contentType: CONTENT_TYPES[image.format] ?? 'application/octet-stream',
      sizeBytes: file.sizeBytes,
      sha256: file.sha256,
      location: undefined,
    };
    if (record.source.kind === 'reference' && record.source.reference.location?.$case === 's3') original.location = record.source.reference;
    record.artifacts.set('original', { info: original, path: file.path });
    if (protection.png) await writeArtifact(deps, record, 'protected', 'protected.png', 'image/png', protection.png);
    const report = { job_id: record.id, analysis, layers: protection.layers };
    await writeArtifact(deps, record, 'analysis', 'analysis.json', 'application/json', Buffer.from(JSON.stringify(report, null, 2)));
    if (signal.aborted) throw new JobCancelled();
    record.result = {
      jobId: record.id,
      analysis,
      layers: protection.layers,
      artifacts: [...record.artifacts.values()].map((a) => a.info),
      verifiedWatermarkText: protection.verifiedWatermarkText,
      verifiedSteganoMessage: protection.verifiedSteganoMessage,
    };
    store.finish(record, JobState.JOB_STATE_COMPLETED);
  } catch (err) {
    if (err instanceof JobCancelled || signal.aborted) {
      await deps.workspace.removeJob(record.id);
      await deps.artifacts?.removeJob(record.id, STORED_ARTIFACT_NAMES);
      return;
    }
    const error = failure(err);
    if (error.reason === JobErrorReason.JOB_ERROR_REASON_INTERNAL) deps.log.error({ err, jobId: record.id }, 'job failed');
    store.finish(record, JobState.JOB_STATE_FAILED, error);
  }
}

function failure(err: unknown): { reason: JobErrorReason; message: string } {
  if (err instanceof InvalidImageError) return { reason: JobErrorReason.JOB_ERROR_REASON_INVALID_IMAGE, message: err.message };
  if (err instanceof FetchError) return { reason: err.reason, message: err.message };
  if (err instanceof StoreFailed) return { reason: JobErrorReason.JOB_ERROR_REASON_STORE_FAILED, message: err.message };
  return { reason: JobErrorReason.JOB_ERROR_REASON_INTERNAL, message: 'processing failed inside the processor' };
}
