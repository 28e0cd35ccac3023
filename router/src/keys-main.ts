import fs from 'node:fs';
import { newSecret, parseKeysFile, sha256Hex } from './security/api-keys';

/**
 * `make api-key NAME=alice [MAX_PRIORITY=10]`: adds a key to API_KEYS_FILE (default ./api-keys,
 * created 0600) and prints its secret, once: only its SHA-256 is kept.
 */
function main(): void {
  const file = process.env.API_KEYS_FILE || 'api-keys';
  const name = process.env.NAME ?? process.argv[2] ?? '';
  const maxPriority = process.env.MAX_PRIORITY ?? '';
  if (!name) throw new Error('NAME is required: the name the key is known by in logs and ownership');
  const existing = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  const secret = newSecret();
  const line = `${name}:${sha256Hex(secret)}${maxPriority ? `:max_priority=${maxPriority}` : ''}`;
  // the new line is checked with the file it joins: a bad name, a taken name or a bad option stop here
  parseKeysFile(`${existing}\n${line}\n`);
  fs.appendFileSync(file, `${existing === '' || existing.endsWith('\n') ? '' : '\n'}${line}\n`, { mode: 0o600 });
  process.stderr.write(`added key "${name}" to ${file}; its secret (shown once, keep it safe):\n`);
  process.stdout.write(`${secret}\n`);
}

try {
  main();
} catch (err) {
  process.stderr.write(`make api-key: ${(err as Error).message}\nusage: make api-key NAME=<name> [MAX_PRIORITY=0..100] [API_KEYS_FILE=api-keys]\n`);
  process.exit(1);
}
