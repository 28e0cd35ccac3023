// @ts-check
/** One uploaded file's card: its two progress bars, its messages, and the result once done. */

import { formatBytes } from './api.js';

/** @param {ParentNode} root @param {string} selector */
function pick(root, selector) {
  return /** @type {HTMLElement} */ (root.querySelector(selector));
}

export class JobCard {
  /** @param {File} file */
  constructor(file) {
    const template = /** @type {HTMLTemplateElement} */ (document.getElementById('job-template'));
    this.root = /** @type {HTMLElement} */ (/** @type {DocumentFragment} */ (template.content.cloneNode(true)).firstElementChild);
    this.file = file;
    pick(this.root, '.job-name').textContent = file.name;
    this.uploadBar = /** @type {HTMLProgressElement} */ (pick(this.root, '.upload-bar'));
    this.processBar = /** @type {HTMLProgressElement} */ (pick(this.root, '.process-bar'));
    this.uploadBar.setAttribute('aria-label', `Upload of ${file.name}`);
    this.processBar.setAttribute('aria-label', `Processing of ${file.name}`);
    this.cancelButton = /** @type {HTMLButtonElement} */ (pick(this.root, '.cancel'));
    /** @type {HTMLOListElement} */ (document.getElementById('job-list')).append(this.root);
    /** @type {HTMLElement} */ (document.getElementById('jobs')).hidden = false;
  }

  /** @param {number} sent @param {number} total */
  uploadProgress(sent, total) {
    const percent = total > 0 ? Math.floor((sent / total) * 100) : 0;
    this.uploadBar.value = percent;
    pick(this.root, '.upload-text').textContent = `${percent} % of ${formatBytes(total)}`;
  }

  uploaded() {
    this.uploadBar.value = 100;
    pick(this.root, '.upload-text').textContent = `100 %: uploaded`;
  }

  /** @param {any} status a job status from the router */
  processing(status) {
    const p = status.progress ?? {};
    const percent = Math.round(p.percentage ?? 0);
    this.processBar.value = percent;
    const step = p.total_steps ? `step ${p.step_number} of ${p.total_steps}` : '';
    pick(this.root, '.process-text').textContent = [`${percent} %`, p.current_step || status.status, step]
      .filter(Boolean)
      .join(': ')
      .replace(/: (step)/, ', $1');
  }

  /** @param {string} text */
  note(text) {
    pick(this.root, '.message').textContent = text;
  }

  /** @param {string} text */
  fail(text) {
    this.root.classList.add('failed');
    this.note(text);
    this.finish();
  }

  finish() {
    this.cancelButton.disabled = true;
  }

  /**
   * The original beside the protected image, the analysis, the layers and the downloads.
   * @param {any} result GET /jobs/:id/result
   * @param {string} protectedUrl an object URL of the protected image
   * @param {(variant: string) => void} download
   */
  showResult(result, protectedUrl, download) {
    this.root.classList.add('done');
    this.note(result.verified?.watermark_text ? `Protected. Watermark verified: “${result.verified.watermark_text}”` : 'Protected.');
    const original = /** @type {HTMLImageElement} */ (pick(this.root, 'img.original'));
    original.src = URL.createObjectURL(this.file);
    const protectedImg = /** @type {HTMLImageElement} */ (pick(this.root, 'img.protected'));
    protectedImg.src = protectedUrl;
    const image = result.analysis?.image ?? {};
    /** @type {[string, string][]} */
    const facts = [
      ['Dimensions', image.width ? `${image.width} × ${image.height}` : ''],
      ['Format', image.format ?? ''],
      ['Size', image.size_bytes ? formatBytes(image.size_bytes) : ''],
      ['SHA-256', image.sha256 ?? ''],
      ...Object.entries(result.analysis?.hashes ?? {}).map(([name, hash]) => /** @type {[string, string]} */ ([name.replace(/_/g, ' '), String(hash)])),
    ];
    const dl = pick(this.root, '.analysis');
    for (const [name, text] of facts.filter(([, t]) => t)) {
      const dt = document.createElement('dt');
      dt.textContent = name;
      const dd = document.createElement('dd');
      dd.textContent = text;
      dl.append(dt, dd);
    }
    const layers = pick(this.root, '.layers');
    for (const layer of result.layers ?? []) {
      const li = document.createElement('li');
      li.className = layer.status;
      li.textContent = `${layer.layer}: ${layer.status}${layer.reason ? ` (${layer.reason})` : ''}`;
      layers.append(li);
    }
    for (const button of /** @type {NodeListOf<HTMLButtonElement>} */ (this.root.querySelectorAll('button.download'))) {
      button.addEventListener('click', () => download(/** @type {string} */ (button.dataset.variant)));
    }
    pick(this.root, '.result').hidden = false;
    this.processBar.value = 100;
    this.finish();
  }
}
