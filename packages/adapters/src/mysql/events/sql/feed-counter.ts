/**
 * The feed counter (`<prefix>feed_seq`): every write numbers its changes while it holds the
 * counter's row lock, and commits before releasing it, so positions become visible in order —
 * once position n is visible every lower position is visible or never will exist. A write takes
 * the counter only after the row locks it may wait for, so nothing ever waits while holding it.
 *
 * @internal
 * @module
 */
import type { Statement } from '../../round-trip.js';

/** Lock the counter; `@s` is the last position handed out and `@base` where this write starts. */
export function takeCounter(prefix: string): Statement[] {
  return [
    { sql: `SELECT v INTO @s FROM \`${prefix}feed_seq\` WHERE id = 1 FOR UPDATE` },
    { sql: 'SET @base := @s' },
  ];
}

/** The next position, as an SQL expression evaluated once per row written. */
export const NEXT_POSITION = '(@s := @s + 1)';

/** Store the last position this write handed out. */
export function saveCounter(prefix: string): Statement {
  return { sql: `UPDATE \`${prefix}feed_seq\` SET v = @s WHERE id = 1` };
}

/** The transaction's clock (`@now`), read back as `now`, with `@base` as `base`. */
export const SET_NOW: Statement = { sql: 'SET @now := UTC_TIMESTAMP(3)' };
export const READ_META: Statement = {
  sql: 'SELECT @base AS base, CAST(@now AS DATETIME(3)) AS now',
  name: 'meta',
};
