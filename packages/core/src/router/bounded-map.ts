/**
 * A Map that forgets its oldest entries beyond a size limit.
 *
 * @internal
 * @module
 */

/** @internal A Map holding at most `limit` entries; setting a new key past it drops the oldest. */
export class BoundedMap<K, V> extends Map<K, V> {
  readonly #limit: number;

  constructor(limit: number) {
    super();
    this.#limit = limit;
  }

  override set(key: K, value: V): this {
    if (super.has(key)) super.delete(key);
    super.set(key, value);
    if (super.size > this.#limit) {
      const oldest = super.keys().next();
      if (!oldest.done) super.delete(oldest.value);
    }
    return this;
  }
}
