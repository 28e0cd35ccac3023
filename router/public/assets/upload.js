// @ts-check
/** Getting a file to the router: resumable (tus) when it offers it, else one multipart POST with progress. */

import { ApiError } from './api.js';

/**
 * @typedef {object} UploadHandlers
 * @property {(sent: number, total: number) => void} onProgress
 * @property {(note: string) => void} onNote a passing state in words ("connection lost, retrying")
 */

/** Waits between retries: long enough to ride out a connection that drops for a while. */
const RETRY_DELAYS = [0, 1000, 2000, 3000, 5000, 5000, 10000, 10000, 20000, 30000, 30000, 60000];

/**
 * @param {any} err a tus-js-client error
 * @returns {ApiError}
 */
function tusError(err) {
  const res = err && err.originalResponse;
  if (!res) return new ApiError(0, 'unreachable');
  const retry = Number(res.getHeader('Retry-After'));
  return new ApiError(res.getStatus(), (res.getBody() || '').trim(), { retryAfter: Number.isFinite(retry) && retry > 0 ? retry : undefined });
}

/**
 * A tus upload to `endpoint`; resolves with the upload's URL (its upload_id for POST /protect).
 * `cancel` stops it and terminates it on the router (nothing is left behind).
 * @param {File} file
 * @param {string} endpoint
 * @param {Record<string, string>} headers
 * @param {UploadHandlers} handlers
 */
export function uploadResumable(file, endpoint, headers, handlers) {
  /** @type {any} */
  const tus = /** @type {any} */ (window).tus;
  /** @type {any} */
  let upload;
  const done = new Promise((resolve, reject) => {
    upload = new tus.Upload(file, {
      endpoint,
      headers,
      metadata: { filename: file.name, filetype: file.type || 'application/octet-stream' },
      retryDelays: RETRY_DELAYS,
      // remembered in this browser: a page reloaded mid-upload resumes it
      storeFingerprintForResuming: true,
      removeFingerprintOnSuccess: true,
      onProgress: (/** @type {number} */ sent, /** @type {number} */ total) => handlers.onProgress(sent, total),
      onShouldRetry: (/** @type {any} */ err) => {
        const status = err?.originalResponse?.getStatus?.() ?? 0;
        const retry = status === 0 || status >= 500 || status === 409 || status === 423 || status === 429;
        if (retry) handlers.onNote(status === 0 ? 'connection lost: the upload resumes when the router can be reached again' : 'the router is busy: retrying');
        return retry;
      },
      onError: (/** @type {unknown} */ err) => reject(tusError(err)),
      onSuccess: () => resolve(upload.url),
    });
    upload.findPreviousUploads().then(
      (/** @type {any[]} */ previous) => {
        if (previous.length > 0) upload.resumeFromPreviousUpload(previous[0]);
        upload.start();
      },
      // no storage to look in (private mode, a full quota): a new upload, not a stuck one
      () => upload.start(),
    );
  });
  // A request in flight when the network goes can hang for minutes before it fails: stop it at
  // once, and resume (HEAD, then PATCH from the router's offset) when the browser is back online.
  const offline = () => {
    handlers.onNote('connection lost: the upload resumes when you are back online');
    upload.abort();
  };
  const online = () => {
    handlers.onNote('back online: resuming the upload');
    upload.start();
  };
  window.addEventListener('offline', offline);
  window.addEventListener('online', online);
  const settled = () => {
    window.removeEventListener('offline', offline);
    window.removeEventListener('online', online);
  };
  done.then(settled, settled);
  return {
    /** @type {Promise<string>} */
    done,
    cancel: () => {
      settled();
      return upload.abort(true).catch(() => undefined);
    },
  };
}

/**
 * POST /protect as multipart (fields first, so the router relays the file as it arrives), with
 * upload progress; resolves with the 202's body.
 * @param {File} file
 * @param {Record<string, string>} fields
 * @param {Record<string, string>} headers
 * @param {UploadHandlers} handlers
 */
export function uploadMultipart(file, fields, headers, handlers) {
  const xhr = new XMLHttpRequest();
  const done = new Promise((resolve, reject) => {
    const body = new FormData();
    for (const [name, value] of Object.entries(fields)) body.append(name, value);
    body.append('image', file, file.name);
    xhr.open('POST', '/protect');
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (e) => handlers.onProgress(e.loaded, e.lengthComputable ? e.total : file.size);
    xhr.onload = () => {
      let parsed = {};
      try {
        parsed = JSON.parse(xhr.responseText);
      } catch {
        // not JSON: the status says enough
      }
      if (xhr.status === 202) return resolve(parsed);
      const body = /** @type {{ error?: string, field?: string }} */ (parsed);
      const retry = Number(xhr.getResponseHeader('Retry-After'));
      reject(new ApiError(xhr.status, body.error ?? xhr.statusText, { field: body.field, retryAfter: Number.isFinite(retry) && retry > 0 ? retry : undefined }));
    };
    xhr.onerror = () => reject(new ApiError(0, 'unreachable'));
    xhr.onabort = () => reject(new DOMException('cancelled', 'AbortError'));
    xhr.send(body);
  });
  return { done, cancel: () => xhr.abort() };
}
