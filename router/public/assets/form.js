// @ts-check
/** The submit form: built from GET /info (layers, processors and their defaults), read into API fields. */

const LAYER_LABELS = {
  fawkes: 'Fawkes (face cloaking)',
  photoguard: 'PhotoGuard (edit resistance)',
  mist: 'Mist (style mimicry)',
  nightshade: 'Nightshade (training poison)',
  'stegano-embed': 'Hidden message (steganography)',
  'c2pa-manifest': 'C2PA provenance manifest',
};

const STRATEGY_LABELS = { 'invisible-watermark': 'Invisible watermark', 'tree-ring': 'Tree-ring watermark', none: 'No watermark' };

const PROCESSOR_LABELS = {
  metadata: 'Metadata',
  imagehash: 'Perceptual hashes',
  dhash: 'Difference hash',
  blockhash: 'Block hash',
  stegano: 'Hidden-message check',
  tineye: 'TinEye reverse search',
};

/**
 * @param {HTMLElement} parent
 * @param {string} name
 * @param {string} value
 * @param {string} label
 * @param {boolean} checked
 */
function checkbox(parent, name, value, label, checked) {
  const wrap = document.createElement('label');
  const box = document.createElement('input');
  box.type = 'checkbox';
  box.name = name;
  box.value = value;
  box.checked = checked;
  box.dataset.default = String(checked);
  wrap.append(box, document.createTextNode(label));
  parent.append(wrap);
}

/**
 * Fills the form's choices from the router's own description of its fields.
 * @param {any} info GET /info
 */
export function buildForm(info) {
  const layers = /** @type {HTMLElement} */ (document.getElementById('layers'));
  for (const t of info.fields.layers) checkbox(layers, 'layer', t.field, LAYER_LABELS[/** @type {keyof typeof LAYER_LABELS} */ (t.layer)] ?? t.layer, t.default);
  const processors = /** @type {HTMLElement} */ (document.getElementById('processors'));
  for (const p of info.fields.processors) checkbox(processors, 'processor', p.name, PROCESSOR_LABELS[/** @type {keyof typeof PROCESSOR_LABELS} */ (p.name)] ?? p.name, p.default);
  const strategy = /** @type {HTMLSelectElement} */ (document.getElementById('watermark_strategy'));
  for (const name of info.fields.watermark_strategies) {
    const option = document.createElement('option');
    option.value = name;
    option.textContent = STRATEGY_LABELS[/** @type {keyof typeof STRATEGY_LABELS} */ (name)] ?? name;
    strategy.append(option);
  }
  /** @type {HTMLElement} */ (document.getElementById('accepted-hint')).textContent = `JPEG, PNG, GIF, WebP, TIFF, AVIF or HEIF, up to ${Math.round(info.max_file_bytes / (1024 * 1024))} MB each`;
}

/** @param {string} id */
const value = (id) => /** @type {HTMLInputElement} */ (document.getElementById(id)).value.trim();

/**
 * The API fields for one file (the title defaults to the file's name); only what differs from
 * the router's defaults is sent.
 * @param {File} file
 * @returns {Record<string, string>}
 */
export function fieldsFor(file) {
  /** @type {Record<string, string>} */
  const fields = {
    artist_name: value('artist_name'),
    artwork_title: value('artwork_title') || file.name.replace(/\.[^.]+$/, '') || file.name,
  };
  for (const id of ['artwork_description', 'tags', 'watermark_text', 'watermark_strategy']) if (value(id)) fields[id] = value(id);
  for (const box of /** @type {NodeListOf<HTMLInputElement>} */ (document.querySelectorAll('input[name="layer"]'))) {
    if (String(box.checked) !== box.dataset.default) fields[box.value] = String(box.checked);
  }
  const processors = [.../** @type {NodeListOf<HTMLInputElement>} */ (document.querySelectorAll('input[name="processor"]'))];
  if (processors.some((box) => String(box.checked) !== box.dataset.default)) {
    const chosen = processors.filter((box) => box.checked).map((box) => box.value);
    if (chosen.includes('tineye')) fields.enable_tineye = 'true';
    // an empty list means "the defaults" to the router: metadata alone is the least analysis there is
    fields.processors = chosen.filter((name) => name !== 'tineye').join(',') || 'metadata';
  }
  return fields;
}

/** What the form cannot send as it is, in words; '' when it can. */
export function formProblem() {
  if (!value('artist_name')) return 'Artist name: please enter your name.';
  return '';
}
