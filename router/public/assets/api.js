// @ts-check
/** The router's HTTP API as the page uses it: requests with the API key, and errors in words. */

export class ApiError extends Error {
  /**
   * @param {number} status HTTP status (0: the router could not be reached)
   * @param {string} message the router's own message
   * @param {{ field?: string, retryAfter?: number }} [extra]
   */
  constructor(status, message, extra = {}) {
    super(message);
    this.status = status;
    this.field = extra.field;
    this.retryAfter = extra.retryAfter;
  }
}

const FIELD_LABELS = {
  artist_name: 'Artist name',
  artwork_title: 'Title',
  artwork_description: 'Description',
  tags: 'Tags',
  watermark_text: 'Watermark text',
  watermark_strategy: 'Watermark strategy',
  processors: 'Analysis',
  image: 'Image',
  upload_id: 'Upload',
};

/** @param {number} bytes */
export function formatBytes(bytes) {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${bytes} bytes`;
}

/**
 * What went wrong, for a person: never a raw JSON dump.
 * @param {unknown} err
 * @param {{ maxFileBytes?: number, fileBytes?: number, acceptedText?: string }} [context]
 */
export function explain(err, context = {}) {
  if (!(err instanceof ApiError)) return `Something went wrong: ${err instanceof Error ? err.message : String(err)}`;
  const wait = err.retryAfter ? ` Try again in ${err.retryAfter} s.` : ' Try again in a moment.';
  switch (err.status) {
    case 0:
      return 'The router could not be reached. Check your connection and try again.';
    case 400:
      return err.field ? `${FIELD_LABELS[/** @type {keyof typeof FIELD_LABELS} */ (err.field)] ?? err.field}: ${err.message}` : `The request was refused: ${err.message}`;
    case 401:
      return 'This router needs a valid API key: enter it in the API key box.';
    case 403:
      return `Your API key is not allowed to do this: ${err.message}`;
    case 404:
      return 'Not found: it may have expired or been removed.';
    case 409:
      return err.message;
    case 413:
      return `This file is too large${context.fileBytes ? ` (${formatBytes(context.fileBytes)})` : ''}: the router accepts at most ${context.maxFileBytes ? formatBytes(context.maxFileBytes) : 'its size limit'}.`;
    case 415:
      return `This file is not an image the router accepts${context.acceptedText ? ` (${context.acceptedText})` : ''}.`;
    case 429:
      return `Too many uploads at once or in a short time.${wait}`;
    case 503:
      return `The service is busy or no processor is available right now.${wait}`;
    default:
      return `The router answered with an error (${err.status}).${wait}`;
  }
}

/**
 * An ApiError from a failed fetch Response (JSON `{ error, field }`, or text from the tus endpoint).
 * @param {Response} res
 */
export async function errorFrom(res) {
  const text = await res.text().catch(() => '');
  let message = text.trim();
  let field;
  try {
    const body = JSON.parse(text);
    if (body && typeof body.error === 'string') {
      message = body.error;
      field = typeof body.field === 'string' ? body.field : undefined;
    }
  } catch {
    // a text body (the tus endpoint's) is the message itself
  }
  const retry = Number(res.headers.get('retry-after'));
  return new ApiError(res.status, message || res.statusText, { field, retryAfter: Number.isFinite(retry) && retry > 0 ? retry : undefined });
}

export class Api {
  /** @param {() => string} apiKey the key to send, '' for none */
  constructor(apiKey) {
    this.apiKey = apiKey;
  }

  /** @returns {Record<string, string>} */
  authHeaders() {
    const key = this.apiKey();
    return key ? { Authorization: `Bearer ${key}` } : {};
  }

  /**
   * A request to the router; throws ApiError unless the answer is 2xx.
   * @param {string} path
   * @param {RequestInit} [init]
   */
  async request(path, init = {}) {
    let res;
    try {
      res = await fetch(path, { ...init, headers: { ...this.authHeaders(), ...(init.headers ?? {}) } });
    } catch (err) {
      if (init.signal?.aborted) throw err;
      throw new ApiError(0, 'unreachable');
    }
    if (!res.ok) throw await errorFrom(res);
    return res;
  }

  /** @param {string} path @param {unknown} body */
  async postJson(path, body) {
    const res = await this.request(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    return res.json();
  }

  /** @param {string} path */
  async getJson(path) {
    return (await this.request(path)).json();
  }
}
