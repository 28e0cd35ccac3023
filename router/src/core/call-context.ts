import { ApiKey } from '../security/api-keys';

/** Who a piece of work is for, carried from the HTTP request to every call it makes (processor, store, queue). */
export interface CallContext {
  requestId: string;
  /** The API key the request came with; undefined on an open router. */
  key?: ApiKey;
}
