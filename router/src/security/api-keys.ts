import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';

/** A key as the keys file names it; the secret itself is never stored. */
export interface ApiKey {
  name: string;
  /** Highest job priority this key may ask for (`max_priority=N` in the keys file; default 0). */
  maxPriority: number;
}

interface StoredKey extends ApiKey {
  hash: Buffer;
}

const NAME = /^[A-Za-z0-9][\w.-]{0,63}$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;

export const sha256Hex = (secret: string) => createHash('sha256').update(secret).digest('hex');

/** A new secret: 32 random bytes, prefixed so it is recognisable in a leaked config. */
export const newSecret = () => `art_${randomBytes(32).toString('base64url')}`;

/**
 * Parses a keys file: one key a line, `name:sha256hex` with optional `:max_priority=N`;
 * `#` comments and blank lines ignored. Throws naming the first bad line.
 */
export function parseKeysFile(text: string): StoredKey[] {
  const keys: StoredKey[] = [];
  const names = new Set<string>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') return;
    const [name, hash, ...options] = line.split(':').map((part) => part.trim());
    if (!NAME.test(name ?? '') || !SHA256_HEX.test((hash ?? '').toLowerCase())) {
      throw new Error(`line ${i + 1}: expected name:sha256hex (a name of letters, digits, . _ -, and 64 hex digits)`);
    }
    if (names.has(name)) throw new Error(`line ${i + 1}: the key name "${name}" appears twice`);
    names.add(name);
    let maxPriority = 0;
    for (const option of options) {
      const match = /^max_priority=(\d{1,3})$/.exec(option);
      if (!match || Number(match[1]) > 100) throw new Error(`line ${i + 1}: unknown option "${option}" (max_priority=0..100 is the one option)`);
      maxPriority = Number(match[1]);
    }
    keys.push({ name, hash: Buffer.from(hash.toLowerCase(), 'hex'), maxPriority });
  });
  return keys;
}

interface KeyRingLog {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/**
 * The API keys of `API_KEYS_FILE`, re-read when the file changes (a bad edit is logged and the
 * keys before it are kept). Every key's hash is compared, in constant time, for every lookup.
 */
export class KeyRing {
  private keys: StoredKey[];
  private readonly onChange = () => this.reload();

  constructor(
    private readonly file: string,
    private readonly log: KeyRingLog,
  ) {
    this.keys = parseKeysFile(fs.readFileSync(file, 'utf8'));
    fs.watchFile(file, { interval: 1000, persistent: false }, this.onChange);
  }

  get size(): number {
    return this.keys.length;
  }

  reload(): void {
    try {
      this.keys = parseKeysFile(fs.readFileSync(this.file, 'utf8'));
      this.log.info({ file: this.file, keys: this.keys.length }, 'API keys reloaded');
    } catch (err) {
      this.log.error({ file: this.file, err: (err as Error).message }, 'API keys file not reloaded; the previous keys stay in force');
    }
  }

  /** The key whose secret this is, or undefined. */
  find(secret: string): ApiKey | undefined {
    const hash = createHash('sha256').update(secret).digest();
    let found: StoredKey | undefined;
    for (const key of this.keys) {
      if (timingSafeEqual(key.hash, hash) && !found) found = key;
    }
    return found && { name: found.name, maxPriority: found.maxPriority };
  }

  close(): void {
    fs.unwatchFile(this.file, this.onChange);
  }
}
