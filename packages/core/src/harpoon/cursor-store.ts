/**
 * Where the outbox relay remembers how far it published. Memory and MySQL backends live in
 * `@ctlplane/adapters`.
 *
 * @module
 */

/** Durable named cursors (feed positions). */
export interface RelayCursorStore {
  /** The saved position of `name`, or 0. */
  load(name: string): Promise<number>;
  /** Save `cursor` for `name`; never moves a cursor backwards. */
  save(name: string, cursor: number): Promise<void>;
}
