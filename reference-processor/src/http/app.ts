import fs from 'node:fs';
import express, { NextFunction, Request, Response } from 'express';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { FieldError, JobSpec, JobState, attachmentDisposition, httpStatusFromGrpc, isClientFacing, jobSpecFromFields, jobToHttp, resultToHttp } from '@artorizer/contract';
import { ProcessorError, UnsupportedTypeError, invalidArgument } from '../core/errors';
import { sniffFile } from '../image/sniff';
import { Processor } from '../core/processor';
import { Logger } from '../logger';
import { receiveMultipart } from './multipart';

/** Retry-After on a 503 (busy or shutting down): about how long a queued job takes to start. */
const BUSY_RETRY_AFTER_SECONDS = 5;

function specFrom(fields: Record<string, unknown>): JobSpec {
  try {
    return jobSpecFromFields(fields);
  } catch (err) {
    if (err instanceof FieldError) throw Object.assign(invalidArgument(err.message), { field: err.field });
    throw err;
  }
}

async function createJob(processor: Processor, req: Request): Promise<{ job_id: string; status: string }> {
  if (req.is('multipart/form-data')) {
    const upload = await receiveMultipart(req, processor.workspace, processor.maxImageBytes);
    try {
      if (!upload.file) throw Object.assign(invalidArgument('file is required (multipart field "file")'), { field: 'file' });
      if (!(await sniffFile(upload.file.path))) throw Object.assign(new UnsupportedTypeError(), { field: 'file' });
      const requested = specFrom(upload.fields);
      requested.image = { contentType: upload.contentType ?? '', sizeBytes: 0, sha256: '', filename: upload.filename ?? '' };
      const { spec, existing } = processor.admit(requested);
      if (existing) {
        await processor.workspace.discard(upload.file.path);
        return jobToHttp(existing.toJob());
      }
      return jobToHttp(await processor.submitReceived(spec, upload.file));
    } catch (err) {
      if (upload.file) await processor.workspace.discard(upload.file.path);
      throw err;
    }
  }
  if (req.is('application/json')) {
    const body: unknown = req.body;
    if (typeof body !== 'object' || body === null) throw invalidArgument('JSON body must be an object');
    const fields = body as Record<string, unknown>;
    const url = fields.image_url ?? fields.imageUrl;
    if (typeof url !== 'string' || !url) throw Object.assign(invalidArgument('image_url is required'), { field: 'image_url' });
    const { spec, existing } = processor.admit(specFrom(fields));
    const job = existing ? existing.toJob() : processor.submitReference(spec, { location: { $case: 'http', http: { url } } });
    return jobToHttp(job);
  }
  throw new ProcessorError(GrpcStatus.INVALID_ARGUMENT, 'Content-Type must be multipart/form-data or application/json');
}

/** The original processor HTTP API over the same core as the gRPC service. */
export function createHttpApp(processor: Processor, log: Logger): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: '1mb' }));

  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });

  app.post('/v1/jobs', async (req, res) => {
    const job = await createJob(processor, req);
    res.status(202).json({ job_id: job.job_id, status: job.status });
  });

  app.get('/v1/jobs/:id', (req, res) => {
    res.json(jobToHttp(processor.getJob(req.params.id)));
  });

  app.get('/v1/jobs/:id/result', (req, res) => {
    const job = processor.getJob(req.params.id);
    if (job.state !== JobState.JOB_STATE_COMPLETED) {
      res.status(409).json({ error: `job is ${jobToHttp(job).status}, not completed`, ...jobToHttp(job) });
      return;
    }
    const { result } = processor.getResult(req.params.id);
    res.json(resultToHttp(job, result, (a) => `/v1/jobs/${job.jobId}/download/${a.variant}`));
  });

  app.get('/v1/jobs/:id/download/:variant', (req, res, next) => {
    const artifact = processor.artifact(req.params.id, req.params.variant);
    res.setHeader('Content-Type', artifact.info.contentType);
    res.setHeader('Content-Length', String(artifact.info.sizeBytes));
    res.setHeader('Content-Disposition', attachmentDisposition(artifact.fileName));
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Content-Security-Policy', "default-src 'none'; sandbox");
    fs.createReadStream(artifact.path).on('error', next).pipe(res);
  });

  app.delete('/v1/jobs/:id', async (req, res) => {
    res.json(jobToHttp(await processor.cancel(req.params.id)));
  });

  app.use((_req: Request, res: Response) => {
    res.status(404).json({ error: 'not found' });
  });

  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (err instanceof ProcessorError) {
      const field = (err as ProcessorError & { field?: string }).field;
      if (err.code === GrpcStatus.UNAVAILABLE) res.setHeader('Retry-After', String(BUSY_RETRY_AFTER_SECONDS));
      res.status(err instanceof UnsupportedTypeError ? 415 : httpStatusFromGrpc(err.code)).json({ error: isClientFacing(err.code) ? err.message : 'internal error', field });
      return;
    }
    const status = (err as { status?: number }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      res.status(status).json({ error: 'malformed request body' });
      return;
    }
    log.error({ err }, 'unexpected error in HTTP handler');
    res.status(500).json({ error: 'internal error' });
  });
  return app;
}
