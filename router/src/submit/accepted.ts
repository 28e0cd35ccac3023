import { Job, jobStatusName } from '@artorizer/contract';

/** What POST /protect answers once a processor, or the queue, has the job. */
export interface Accepted {
  job_id: string;
  status: string;
}

/** The answer for a job a processor accepted. */
export function acceptedJob(job: Job): Accepted {
  return { job_id: job.jobId, status: jobStatusName(job.state) };
}
