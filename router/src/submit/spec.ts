import { JobSpec, jobSpecFromFields } from '@artorizer/contract';
import { CallContext } from '../core/call-context';
import { fieldErrorToHttp } from '../http/field-error';
import { ownedSpec } from '../security/ownership';

/** The spec the fields describe, as the request's API key submits it (see ownedSpec). */
export function specOrBadRequest(fields: Record<string, unknown>, ctx: CallContext): JobSpec {
  try {
    return ownedSpec(jobSpecFromFields(fields), ctx.key);
  } catch (err) {
    throw fieldErrorToHttp(err);
  }
}
