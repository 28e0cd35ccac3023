// @ts-check
/** The page: choose images, fill the form, and follow each file from upload to protected result. */

import { Api, ApiError, explain } from './api.js';
import { watchJob } from './events.js';
import { buildForm, fieldsFor, formProblem } from './form.js';
import { uploadMultipart, uploadResumable } from './upload.js';
import { JobCard } from './view.js';

const ACCEPTED_TEXT = 'JPEG, PNG, GIF, WebP, TIFF, AVIF or HEIF';
/** Files uploaded at once; the others wait their turn. */
const CONCURRENT_UPLOADS = 2;
const KEY_STORAGE = 'artorizer.apiKey';

/** @param {string} id */
const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
const keyInput = /** @type {HTMLInputElement} */ ($('api_key'));
const api = new Api(() => keyInput.value.trim());

/** @type {any} */
let info;
/** @type {File[]} */
let chosen = [];

/** @param {File[]} files */
function choose(files) {
  chosen = files;
  const list = $('chosen');
  list.replaceChildren(
    ...files.map((file) => {
      const li = document.createElement('li');
      const problem = fileProblem(file);
      li.textContent = problem ? `${file.name}: ${problem}` : file.name;
      if (problem) li.className = 'refused';
      return li;
    }),
  );
}

/** What keeps a file from being sent, checked before a byte leaves; '' when nothing does. */
function fileProblem(/** @type {File} */ file) {
  if (file.type && !info.accepted_types.includes(file.type)) return `not an image the router accepts (${ACCEPTED_TEXT})`;
  if (file.size > info.max_file_bytes) return explain(new ApiError(413, ''), { maxFileBytes: info.max_file_bytes, fileBytes: file.size });
  return '';
}

/**
 * Sends one file, then follows its job to the end.
 * @param {File} file
 */
async function protect(file) {
  const card = new JobCard(file);
  const context = { maxFileBytes: info.max_file_bytes, fileBytes: file.size, acceptedText: ACCEPTED_TEXT };
  const problem = fileProblem(file);
  if (problem) return card.fail(problem);
  const fields = fieldsFor(file);
  const watching = new AbortController();
  /** @type {() => void} */
  let cancelUpload = () => undefined;
  /** @type {string | undefined} */
  let jobId;
  let cancelled = false;
  /** Cancels the job, once it exists: a cancel while its submit was on the way reaches it too. */
  const cancelJob = () => {
    if (jobId) api.request(`/jobs/${encodeURIComponent(jobId)}`, { method: 'DELETE' }).catch(() => undefined);
  };
  card.cancelButton.addEventListener('click', () => {
    cancelled = true;
    cancelUpload();
    watching.abort();
    cancelJob();
    card.fail('Cancelled.');
  });
  const handlers = { onProgress: (/** @type {number} */ sent, /** @type {number} */ total) => card.uploadProgress(sent, total), onNote: (/** @type {string} */ text) => card.note(text) };
  try {
    if (info.uploads.resumable) {
      const upload = uploadResumable(file, info.uploads.resumable, api.authHeaders(), {
        ...handlers,
        onProgress: (sent, total) => {
          if (navigator.onLine) card.note('');
          card.uploadProgress(sent, total);
        },
      });
      cancelUpload = upload.cancel;
      const url = await upload.done;
      card.uploaded();
      jobId = (await api.postJson('/protect', { ...fields, upload_id: url })).job_id;
    } else {
      const upload = uploadMultipart(file, fields, api.authHeaders(), handlers);
      cancelUpload = upload.cancel;
      jobId = (await upload.done).job_id;
      card.uploaded();
    }
    if (cancelled) return cancelJob();
    card.note('Uploaded; waiting for the processor.');
    const end = await watchJob(api, /** @type {string} */ (jobId), (status) => card.processing(status), watching.signal);
    if (end.status !== 'completed') return card.fail(end.status === 'cancelled' ? 'Cancelled.' : `Processing failed: ${end.error?.message ?? end.last_error ?? end.status}`);
    const result = await api.getJson(`/jobs/${encodeURIComponent(/** @type {string} */ (jobId))}/result`);
    const image = await (await api.request(`/jobs/${encodeURIComponent(/** @type {string} */ (jobId))}/download/protected`)).blob();
    card.showResult(result, URL.createObjectURL(image), (variant) => void download(/** @type {string} */ (jobId), variant, file.name));
  } catch (err) {
    if (watching.signal.aborted || (err instanceof DOMException && err.name === 'AbortError')) return;
    card.fail(explain(err, context));
  }
}

/**
 * Saves one of a job's files (with the API key, so through a blob, not a plain link).
 * @param {string} jobId
 * @param {string} variant
 * @param {string} name the original's file name
 */
async function download(jobId, variant, name) {
  try {
    const res = await api.request(`/jobs/${encodeURIComponent(jobId)}/download/${variant}`);
    const blob = await res.blob();
    const ext = variant === 'analysis' ? 'json' : blob.type.split('/')[1]?.replace('jpeg', 'jpg') || 'bin';
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `${name.replace(/\.[^.]+$/, '')}.${variant}.${ext}`;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  } catch (err) {
    $('form-error').textContent = explain(err);
  }
}

/** Runs `task` over `items`, at most `limit` at a time. */
async function eachLimited(/** @type {File[]} */ items, /** @type {number} */ limit, /** @type {(f: File) => Promise<void>} */ task) {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: Math.min(limit, queue.length) }, async () => {
      for (let next = queue.shift(); next; next = queue.shift()) await task(next);
    }),
  );
}

function wire() {
  const input = /** @type {HTMLInputElement} */ ($('files'));
  input.addEventListener('change', () => choose([...(input.files ?? [])]));
  const zone = $('drop-zone');
  zone.addEventListener('dragover', (e) => {
    e.preventDefault();
    zone.classList.add('dragging');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('dragging'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('dragging');
    choose([...(e.dataTransfer?.files ?? [])]);
  });
  keyInput.value = localStorage.getItem(KEY_STORAGE) ?? '';
  keyInput.addEventListener('change', () => localStorage.setItem(KEY_STORAGE, keyInput.value.trim()));
  $('protect-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const error = $('form-error');
    error.textContent =
      chosen.length === 0 ? 'Choose at least one image first.' : formProblem() || (info.api_key_required && !keyInput.value.trim() ? 'This router needs an API key: enter it in the API key box.' : '');
    if (error.textContent) return;
    const files = chosen;
    choose([]);
    input.value = '';
    void eachLimited(files, CONCURRENT_UPLOADS, protect);
  });
}

async function start() {
  try {
    info = await api.getJson('/info');
  } catch (err) {
    $('form-error').textContent = `The router could not describe itself: ${explain(err)}`;
    return;
  }
  buildForm(info);
  $('key-panel').hidden = !info.api_key_required;
  wire();
}

void start();
