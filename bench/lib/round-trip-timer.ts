/**
 * Where a process waits on MariaDB: every query packet mysql2 sends is timed from send to reply
 * (its `mysql2:query` tracing channel) and filed under the operation its SQL does, so a benchmark
 * can say how long each kind of round trip takes, lock waits included.
 */
import { tracingChannel } from 'node:diagnostics_channel';

/** Round trips and their total milliseconds, per operation. */
export type RoundTripTimes = Record<string, { count: number; ms: number }>;

/** Name the operation of a round trip from the start of its SQL (ctlplane's statements). */
function operationOf(text: string): string {
  // The statements that tell the operations apart are near the start; the rest can be large.
  const sql = text.slice(0, 400);
  if (sql.includes('fleet_') && sql.startsWith('SET TRANSACTION')) return 'fleet: lock keys, read holders';
  if (sql.startsWith('SET @now := UTC_TIMESTAMP(3); UPDATE JSON_TABLE'))
    return 'fleet reserve: update servers, commit';
  if (sql.includes('fleet_')) return 'fleet: other';
  if (sql.includes('@found')) return 'store claim';
  if (/START TRANSACTION; SELECT id FROM `[^`]*events` WHERE id IN \(/.test(sql)) return 'store transition';
  if (sql.includes('INSERT INTO')) return 'store append';
  return 'other';
}

/** Start timing; the returned function reads the totals so far. */
export function timeRoundTrips(): () => RoundTripTimes {
  const times: RoundTripTimes = {};
  const started = new WeakMap<object, { at: number; op: string }>();
  tracingChannel('mysql2:query').subscribe({
    start(message) {
      const m = message as { query?: string };
      started.set(message as object, { at: performance.now(), op: operationOf(m.query ?? '') });
    },
    end() {},
    asyncStart(message) {
      const s = started.get(message as object);
      if (!s) return;
      const t = times[s.op] ?? { count: 0, ms: 0 };
      times[s.op] = t;
      t.count++;
      t.ms += performance.now() - s.at;
    },
    asyncEnd() {},
    error() {},
  });
  return () => times;
}
