import fs from 'node:fs';
import path from 'node:path';
import { fetchArtifact, saveArtifact } from './download';
import { extensionFor } from './format';
import { Connection } from './http';

/** What GET /jobs/:id/result answers for a completed job (the parts the CLI reads). */
export interface JobResult {
  job_id: string;
  status: string;
  analysis?: { image?: { width: number; height: number; format: string } };
  layers?: { layer: string; status: string; reason?: string }[];
  verified?: { watermark_text?: string; stegano_message?: string };
  download_urls?: Record<string, string>;
}

/** "applied: invisible-watermark; skipped: fawkes, mist" */
export function layerSummary(result: JobResult): string | undefined {
  if (!result.layers || result.layers.length === 0) return undefined;
  const byStatus = new Map<string, string[]>();
  for (const l of result.layers) byStatus.set(l.status, [...(byStatus.get(l.status) ?? []), l.layer]);
  const order = (status: string) => (status === 'applied' ? 0 : status === 'failed' ? 1 : 2);
  return [...byStatus]
    .sort(([a], [b]) => order(a) - order(b))
    .map(([status, layers]) => `${status}: ${layers.join(', ')}`)
    .join('; ');
}

/** Saves the analysis of a completed job, and its protected image when it has one; their paths. */
export async function saveOutputs(conn: Connection, jobId: string, result: JobResult, dir: string, name: string): Promise<{ protected: string | null; analysis: string }> {
  let protectedPath: string | null = null;
  if (hasProtected(result)) {
    const image = await fetchArtifact(conn, jobId, 'protected');
    protectedPath = path.join(dir, `${name}.protected.${extensionFor(image.contentType)}`);
    await saveArtifact(image, protectedPath);
  }
  const analysisPath = path.join(dir, `${name}.analysis.json`);
  if (result.download_urls && !('analysis' in result.download_urls)) {
    // a processor that stores no analysis artifact: the result's analysis is the record
    fs.writeFileSync(analysisPath, `${JSON.stringify(result.analysis ?? {}, null, 2)}\n`);
  } else {
    await saveArtifact(await fetchArtifact(conn, jobId, 'analysis'), analysisPath);
  }
  return { protected: protectedPath, analysis: analysisPath };
}

/** Whether a completed job made a protected image (it does not when no layer could be applied). */
export function hasProtected(result: JobResult): boolean {
  return !result.download_urls || 'protected' in result.download_urls;
}

/** Why a completed job has no protected image: its failed layers' reasons. */
export function noProtectedReason(result: JobResult): string {
  const failed = (result.layers ?? []).filter((l) => l.status === 'failed');
  if (failed.length === 0) return 'no protection layer was applied';
  return failed.map((l) => `${l.layer} failed: ${l.reason ?? 'no reason given'}`).join('; ');
}
