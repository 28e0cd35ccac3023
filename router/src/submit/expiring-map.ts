/** A map whose entries expire `ttlMs` after they were set; expired ones are dropped as it is used. */
export class ExpiringMap<V> {
  private readonly entries = new Map<string, { value: V; until: number }>();

  constructor(private readonly ttlMs: number) {}

  private expire(): void {
    const now = Date.now();
    // insertion order is expiry order (one TTL for all), so the sweep stops at the first live entry
    for (const [k, held] of this.entries) {
      if (held.until > now) break;
      this.entries.delete(k);
    }
  }

  get(key: string): V | undefined {
    this.expire();
    return this.entries.get(key)?.value;
  }

  set(key: string, value: V): void {
    this.expire();
    this.entries.delete(key);
    this.entries.set(key, { value, until: Date.now() + this.ttlMs });
  }

  /** The value, removed. */
  take(key: string): V | undefined {
    const value = this.get(key);
    this.entries.delete(key);
    return value;
  }

  delete(key: string): void {
    this.entries.delete(key);
  }
}
