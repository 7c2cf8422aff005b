/**
 * Where the outbox relay remembers how far it published, and which changes it could never
 * publish. Memory and MySQL backends live in `@ctlplane/adapters`.
 *
 * @module
 */

/**
 * A change the relay could never publish (its message is too large for the bus, its routing key
 * too long, or the broker refused it as it is), set aside so the changes behind it still flow.
 * The event itself stays in the store; this records that consumers never heard of this version.
 */
export interface ParkedChange {
  /** The event's id. */
  readonly eventId: number;
  /** The version whose change was not published. */
  readonly version: number;
  /** Its feed position. */
  readonly seq: number;
  /** Why it cannot be published: the bus's error message. */
  readonly reason: string;
  /** When the relay parked it. */
  readonly parkedAt: Date;
}

/** Durable named cursors (feed positions), and the changes each relay parked. */
export interface RelayCursorStore {
  /** The saved position of `name`, or 0. */
  load(name: string): Promise<number>;
  /** Save `cursor` for `name`; never moves a cursor backwards. */
  save(name: string, cursor: number): Promise<void>;
  /**
   * Record that relay `name` parked `change`. Called before the cursor moves past it, so a change
   * is never skipped unrecorded; parking the same event version again keeps one record.
   */
  park(name: string, change: ParkedChange): Promise<void>;
  /** The changes relay `name` parked, newest (highest `seq`) first, at most `limit`. */
  parked(name: string, limit: number): Promise<ParkedChange[]>;
}
