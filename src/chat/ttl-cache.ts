// A small bounded cache of promises with a time to live: chat look-ups (who is U123 on Slack, who is 29:… on Teams) are
// asked once per TTL however many clicks arrive at the same moment, and a failed look-up is never cached.

export class PromiseCache<K, V> {
  private readonly entries = new Map<K, { value: Promise<V>; expiresAt: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  remember(key: K, load: () => Promise<V>): Promise<V> {
    const hit = this.entries.get(key);
    if (hit && hit.expiresAt > this.now()) return hit.value;
    const value = load();
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAt: this.now() + this.ttlMs });
    value.catch(() => {
      if (this.entries.get(key)?.value === value) this.entries.delete(key);
    });
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as K);
    return value;
  }

  clear(): void {
    this.entries.clear();
  }
}

/** Remembers the most recent keys (oldest forgotten first); add() says whether the key is new. */
export class RecentKeys {
  private readonly keys = new Set<string>();

  constructor(private readonly max = 10_000) {}

  add(key: string): boolean {
    if (this.keys.has(key)) return false;
    this.keys.add(key);
    if (this.keys.size > this.max) this.keys.delete(this.keys.values().next().value as string);
    return true;
  }

  forget(key: string): void {
    this.keys.delete(key);
  }
}
