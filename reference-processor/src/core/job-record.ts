import { randomUUID } from 'node:crypto';
import { ArtifactInfo, ImageReference, Job, JobError, JobResult, JobSpec, JobStage, JobState, Progress, WatchJobResponse, isTerminalState } from '@artorizer/contract';
import { IngestedFile } from './ingest';

/** Where a job's image comes from: already received, or to be fetched. */
export type ImageSource = { kind: 'upload'; file: IngestedFile } | { kind: 'reference'; reference: ImageReference };

export interface StoredArtifact {
  info: ArtifactInfo;
  path: string;
  /** Name a download of it suggests: the client's (cleaned) file name for the original. */
  fileName: string;
}

/** The stages a job walks through, in order; the step number is the index + 1. */
export function stagesFor(source: ImageSource): JobStage[] {
  const stages = [JobStage.JOB_STAGE_DECODING, JobStage.JOB_STAGE_ANALYZING, JobStage.JOB_STAGE_PROTECTING, JobStage.JOB_STAGE_STORING];
  return source.kind === 'reference' ? [JobStage.JOB_STAGE_FETCHING, ...stages] : stages;
}

export const STAGE_LABELS: Record<number, string> = {
  [JobStage.JOB_STAGE_QUEUED]: 'Waiting in queue',
  [JobStage.JOB_STAGE_FETCHING]: 'Fetching image',
  [JobStage.JOB_STAGE_DECODING]: 'Decoding image',
  [JobStage.JOB_STAGE_ANALYZING]: 'Analyzing image',
  [JobStage.JOB_STAGE_PROTECTING]: 'Applying protection layers',
  [JobStage.JOB_STAGE_STORING]: 'Storing artifacts',
  [JobStage.JOB_STAGE_DONE]: 'Done',
};

/** One job's mutable state. Only JobTable changes it, so every change becomes an event. */
export class JobRecord {
  readonly id = randomUUID();
  readonly createdAt = new Date();
  readonly abort = new AbortController();
  readonly artifacts = new Map<string, StoredArtifact>();
  readonly stages: JobStage[];
  state = JobState.JOB_STATE_QUEUED;
  progress: Progress;
  updatedAt = this.createdAt;
  finishedAt: Date | undefined;
  error: JobError | undefined;
  result: JobResult | undefined;
  sequence = 0;

  constructor(
    readonly spec: JobSpec,
    readonly source: ImageSource,
  ) {
    this.stages = stagesFor(source);
    this.progress = {
      stage: JobStage.JOB_STAGE_QUEUED,
      currentStep: STAGE_LABELS[JobStage.JOB_STAGE_QUEUED],
      stepNumber: 0,
      totalSteps: this.stages.length,
      percent: 0,
    };
  }

  get terminal(): boolean {
    return isTerminalState(this.state);
  }

  toJob(): Job {
    return {
      jobId: this.id,
      state: this.state,
      progress: { ...this.progress },
      createdAt: this.createdAt,
      updatedAt: this.updatedAt,
      finishedAt: this.finishedAt,
      error: this.error,
      idempotencyKey: this.spec.idempotencyKey,
      labels: this.spec.labels ?? {},
    };
  }

  toEvent(): WatchJobResponse {
    return { sequence: this.sequence, job: this.toJob(), terminal: this.terminal };
  }
}
