import { FieldError } from '@artorizer/contract';
import { HttpError } from './errors';

/** A spec field the client got wrong is a 400 naming the field; any other error is returned as it is. */
export function fieldErrorToHttp(err: unknown): unknown {
  return err instanceof FieldError ? new HttpError(400, err.message, { field: err.field }) : err;
}
