/**
 * Resource names ↔ column slots of the servers table. The mapping is shared by every process
 * (`fleet_resources`), assigned on first use and never changed, so each process caches it.
 *
 * @internal
 * @module
 */
import { UnsupportedError } from '@ctlplane/core';
import type { Pool, RowDataPacket } from 'mysql2/promise';
import { mapMysqlError } from '../errors.js';
import { FLEET_SLOTS } from './migrations.js';

/** @internal */
export class FleetSlots {
  readonly #pool: Pool;
  readonly #table: string;
  readonly #bySlot = new Map<number, string>();
  readonly #byName = new Map<string, number>();

  constructor(pool: Pool, prefix: string) {
    this.#pool = pool;
    this.#table = `\`${prefix}fleet_resources\``;
  }

  /** Slot of a resource, or -1 when no server has named it (as far as this process knows). */
  slot(name: string): number {
    return this.#byName.get(name) ?? -1;
  }

  /** Known slots. */
  get size(): number {
    return this.#bySlot.size;
  }

  /** True when the slot is known. */
  has(slot: number): boolean {
    return this.#bySlot.has(slot);
  }

  /** Every known (slot, name) pair. */
  entries(): IterableIterator<[number, string]> {
    return this.#bySlot.entries();
  }

  /** Re-read the mapping (another process may have added resources). */
  async load(): Promise<void> {
    try {
      const [rows] = await this.#pool.query<RowDataPacket[]>(`SELECT name, slot FROM ${this.#table}`);
      for (const r of rows) this.#set(String(r.name), Number(r.slot));
    } catch (err) {
      throw mapMysqlError(err, 'fleet resources');
    }
  }

  /** Make sure every name has a slot, registering new ones. @throws UnsupportedError beyond the limit */
  async ensure(names: Iterable<string>): Promise<void> {
    const missing = [...new Set(names)].filter((n) => !this.#byName.has(n));
    if (missing.length === 0) return;
    await this.load();
    for (const name of missing) {
      // Two processes may race for one slot: the unique key lets one win; the other re-reads.
      for (let tries = 0; !this.#byName.has(name); tries++) {
        if (this.#bySlot.size >= FLEET_SLOTS || tries > FLEET_SLOTS) {
          throw new UnsupportedError(
            `fleet resources: at most ${FLEET_SLOTS} resource names per MySQL fleet (${[...this.#byName.keys()].join(', ')} are taken)`,
          );
        }
        try {
          await this.#pool.query(
            `INSERT IGNORE INTO ${this.#table} (name, slot)
             SELECT ?, COALESCE(MAX(slot) + 1, 0) FROM ${this.#table} HAVING COALESCE(MAX(slot) + 1, 0) < ?`,
            [name, FLEET_SLOTS],
          );
        } catch (err) {
          throw mapMysqlError(err, 'fleet resources');
        }
        await this.load();
      }
    }
  }

  #set(name: string, slot: number): void {
    this.#bySlot.set(slot, name);
    this.#byName.set(name, slot);
  }
}
