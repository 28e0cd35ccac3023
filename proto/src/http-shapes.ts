import { ArtifactInfo, Job, JobResult } from '../gen/artorizer/v1/artorizer';
import { jobStatusName, layerName, layerStatusName, processorName, stageName } from './names';

/** Job status in the original HTTP API's shape. */
export interface HttpJobStatus {
  job_id: string;
  status: string;
  progress: {
    stage: string;
    current_step: string;
    step_number: number;
    total_steps: number;
    percentage: number;
  };
  submitted_at?: string;
  updated_at?: string;
  completed_at?: string;
  error?: { reason: string; message: string };
}

export function jobToHttp(job: Job): HttpJobStatus {
  const p = job.progress;
  return {
    job_id: job.jobId,
    status: jobStatusName(job.state),
    progress: {
      stage: p ? stageName(p.stage) : 'unknown',
      current_step: p?.currentStep ?? '',
      step_number: p?.stepNumber ?? 0,
      total_steps: p?.totalSteps ?? 0,
      percentage: p?.percent ?? 0,
    },
    submitted_at: job.createdAt?.toISOString(),
    updated_at: job.updatedAt?.toISOString(),
    completed_at: job.finishedAt?.toISOString(),
    error: job.error ? { reason: reasonName(job.error.reason), message: job.error.message } : undefined,
  };
}

const REASONS = ['unspecified', 'invalid_image', 'fetch_failed', 'too_large', 'integrity', 'internal', 'shutdown', 'store_failed'];
function reasonName(reason: number): string {
  return REASONS[reason] ?? 'unknown';
}

export interface HttpArtifact {
  variant: string;
  content_type: string;
  size_bytes: number;
  sha256: string;
  url: string;
}

/** Completed job result in the original HTTP API's shape; `urlFor` builds download links. */
export function resultToHttp(job: Job, result: JobResult, urlFor: (a: ArtifactInfo) => string) {
  const analysis = result.analysis;
  const artifacts: HttpArtifact[] = result.artifacts.map((a) => ({
    variant: a.variant,
    content_type: a.contentType,
    size_bytes: a.sizeBytes,
    sha256: a.sha256,
    url: urlFor(a),
  }));
  return {
    job_id: result.jobId,
    status: jobStatusName(job.state),
    completed_at: job.finishedAt?.toISOString(),
    analysis: {
      image: analysis?.image
        ? {
            format: analysis.image.format,
            width: analysis.image.width,
            height: analysis.image.height,
            channels: analysis.image.channels,
            color_space: analysis.image.colorSpace,
            has_alpha: analysis.image.hasAlpha,
            has_exif: analysis.image.hasExif,
            size_bytes: analysis.image.sizeBytes,
            sha256: analysis.image.sha256,
          }
        : undefined,
      hashes: analysis?.hashes
        ? {
            average_hash: analysis.hashes.averageHash || undefined,
            difference_hash: analysis.hashes.differenceHash || undefined,
            perceptual_hash: analysis.hashes.perceptualHash || undefined,
            blockhash: analysis.hashes.blockhash || undefined,
          }
        : undefined,
      existing_stegano_message: analysis?.existingSteganoMessage || undefined,
      processors: (analysis?.processors ?? []).map((p) => ({
        processor: processorName(p.processor),
        ran: p.ran,
        reason: p.reason || undefined,
      })),
    },
    layers: result.layers.map((l) => ({
      layer: layerName(l.layer),
      status: layerStatusName(l.status),
      reason: l.reason,
    })),
    verified: {
      watermark_text: result.verifiedWatermarkText || undefined,
      stegano_message: result.verifiedSteganoMessage || undefined,
    },
    artifacts,
    download_urls: Object.fromEntries(artifacts.map((a) => [a.variant, a.url])),
  };
}
export type HttpJobResult = ReturnType<typeof resultToHttp>;
