/*
 * Quantisation index modulation of one block's mean luma. A block is handed
 * over as consecutive RGB triples in a clamped array and edited in place.
 */

const MAX_PIXELS = 64;
const movable = new Int32Array(MAX_PIXELS);
const original = new Uint8ClampedArray(MAX_PIXELS * 3);
const best = new Uint8ClampedArray(MAX_PIXELS * 3);

/** Mean Rec. 601 luma (the weights JPEG uses) of RGB triples. */
export function meanLuma(rgb: ArrayLike<number>, start = 0, end = rgb.length): number {
  let sum = 0;
  for (let i = start; i < end; i += 3) sum += 0.299 * rgb[i] + 0.587 * rgb[i + 1] + 0.114 * rgb[i + 2];
  return (sum * 3) / (end - start);
}

/**
 * Moves the mean luma to `target` by integer shifts applied equally to R, G
 * and B; pixels that would clip sit out and the others take up their share.
 * Leftover single steps go to the first pixels, so callers order pixels to spread them.
 */
function shiftMean(rgb: Uint8ClampedArray, target: number): void {
  const n = rgb.length / 3;
  for (let round = 0; round < 8; round++) {
    // A +1 on all three channels raises a pixel's luma by exactly 1 (the weights sum to 1).
    const units = Math.round((target - meanLuma(rgb)) * n);
    if (units === 0) return;
    const up = units > 0;
    let count = 0;
    for (let i = 0; i < rgb.length; i += 3) {
      const free = up ? rgb[i] < 255 && rgb[i + 1] < 255 && rgb[i + 2] < 255 : rgb[i] > 0 && rgb[i + 1] > 0 && rgb[i + 2] > 0;
      if (free) movable[count++] = i;
    }
    if (count === 0) return;
    const total = Math.abs(units);
    const per = Math.floor(total / count);
    const extra = total % count;
    for (let k = 0; k < count; k++) {
      const amount = (up ? 1 : -1) * (per + (k < extra ? 1 : 0));
      const i = movable[k];
      rgb[i] += amount;
      rgb[i + 1] += amount;
      rgb[i + 2] += amount;
    }
  }
}

function squaredError(a: Uint8ClampedArray, b: Uint8ClampedArray, length: number): number {
  let se = 0;
  for (let i = 0; i < length; i++) se += (a[i] - b[i]) ** 2;
  return se;
}

/**
 * Puts the block's mean luma on the lattice of `bit` (points offset + step*(k + bit/2)):
 * the nearest point when a uniform shift reaches it without clipping, otherwise
 * whichever of the three nearest points costs the least squared error.
 */
export function embedBitInBlock(rgb: Uint8ClampedArray, bit: number, offset: number, step: number): void {
  if (rgb.length > MAX_PIXELS * 3) throw new Error('block too large');
  const mean = meanLuma(rgb);
  const base = offset + step * (Math.round((mean - offset) / step - bit / 2) + bit / 2);
  const candidates = [base, base - step, base + step].filter((t) => t >= 0 && t <= 255).sort((a, b) => Math.abs(a - mean) - Math.abs(b - mean));
  let lo = 255;
  let hi = 0;
  for (let i = 0; i < rgb.length; i++) {
    if (rgb[i] < lo) lo = rgb[i];
    if (rgb[i] > hi) hi = rgb[i];
  }
  const d = candidates[0] - mean;
  if (lo + Math.floor(d) >= 0 && hi + Math.ceil(d) <= 255) {
    shiftMean(rgb, candidates[0]);
    return;
  }
  original.set(rgb);
  let bestCost = Infinity;
  for (const t of candidates) {
    rgb.set(original.subarray(0, rgb.length));
    shiftMean(rgb, t);
    const missed = Math.abs(meanLuma(rgb) - t) >= 3 / rgb.length;
    const cost = squaredError(rgb, original, rgb.length) + (missed ? 1e9 : 0);
    if (cost < bestCost) {
      bestCost = cost;
      best.set(rgb);
    }
  }
  rgb.set(best.subarray(0, rgb.length));
}
