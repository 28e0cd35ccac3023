import {
  CancelJobRequest,
  CancelJobResponse,
  GetJobRequest,
  GetJobResponse,
  GetJobResultRequest,
  GetJobResultResponse,
  SubmitJobByReferenceRequest,
  SubmitJobByReferenceResponse,
} from '@artorizer/contract';
import { Processor } from '../../core/processor';
import { Logger } from '../../logger';
import { unary } from './unary';

export const submitJobByReference = (p: Processor, log: Logger) =>
  unary<SubmitJobByReferenceRequest, SubmitJobByReferenceResponse>('SubmitJobByReference', log, (req, requestId) => {
    const { spec, existing } = p.admit(req.spec);
    const job = existing ? existing.toJob() : p.submitReference(spec, req.reference);
    log.info({ rpc: 'SubmitJobByReference', jobId: job.jobId, requestId }, 'job accepted');
    return { job };
  });

export const getJob = (p: Processor, log: Logger) => unary<GetJobRequest, GetJobResponse>('GetJob', log, (req) => ({ job: p.getJob(req.jobId) }));

export const getJobResult = (p: Processor, log: Logger) => unary<GetJobResultRequest, GetJobResultResponse>('GetJobResult', log, (req) => p.getResult(req.jobId));

export const cancelJob = (p: Processor, log: Logger) => unary<CancelJobRequest, CancelJobResponse>('CancelJob', log, async (req) => ({ job: await p.cancel(req.jobId) }));
