import { FieldError } from './spec-fields';

/** Bounds on every free-form JSON field (extra_metadata, c2pa_assertions), checked at the edge. */
export const JSON_FIELD_LIMITS = {
  /** Nesting depth of objects and arrays. */
  depth: 16,
  /** Object keys and array items, counted over the whole value. */
  entries: 1000,
  /** Characters of any one string, keys included. */
  stringLength: 4096,
  /** Size of the value written as JSON, in bytes. */
  bytes: 64 * 1024,
} as const;

/**
 * Throws FieldError naming `field` when `value` exceeds a limit. Walks with its own stack,
 * so a value nested 150,000 deep is refused instead of overflowing the call stack.
 */
export function checkJsonField(field: string, value: unknown): void {
  const L = JSON_FIELD_LIMITS;
  const stack: [unknown, number][] = [[value, 1]];
  let entries = 0;
  let bytes = 0;
  const fail = (what: string) => new FieldError(field, `${field} ${what}`);
  const addString = (s: string) => {
    if (s.length > L.stringLength) throw fail(`has a string longer than ${L.stringLength} characters`);
    bytes += Buffer.byteLength(s) + 2;
  };
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (bytes > L.bytes) throw fail(`is larger than ${L.bytes} bytes as JSON`);
    if (typeof node === 'string') addString(node);
    else if (node === null || typeof node === 'number' || typeof node === 'boolean') bytes += 5;
    else if (typeof node === 'object') {
      if (depth > L.depth) throw fail(`is nested deeper than ${L.depth} levels`);
      const children = Array.isArray(node) ? node : Object.values(node);
      if (!Array.isArray(node)) for (const key of Object.keys(node)) addString(key);
      entries += children.length;
      if (entries > L.entries) throw fail(`has more than ${L.entries} keys and items`);
      bytes += 2 + children.length;
      for (const child of children) stack.push([child, depth + 1]);
    } else throw fail('holds a value JSON cannot represent');
  }
  if (bytes > L.bytes) throw fail(`is larger than ${L.bytes} bytes as JSON`);
}
