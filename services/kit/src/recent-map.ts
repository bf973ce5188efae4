/**
 * A map that keeps the `max` entries set last: setting a new key past `max` drops the oldest one
 * (setting a key already there keeps its place; delete and set it again to make it the newest).
 * For caches of what is the same every time it is made again: a prepared statement, a signed link,
 * a formatted minute.
 */
export class RecentMap<K, V> extends Map<K, V> {
  constructor(private readonly max: number) {
    super();
    if (!Number.isInteger(max) || max < 1) throw new Error(`a RecentMap keeps at least one entry (max ${max})`);
  }

  override set(key: K, value: V): this {
    super.set(key, value);
    if (this.size > this.max) this.delete(this.keys().next().value as K);
    return this;
  }
}
