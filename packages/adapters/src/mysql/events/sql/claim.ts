/**
 * Claims without deadlocks. A naive `SELECT … WHERE status = ? FOR UPDATE SKIP LOCKED` locks
 * secondary-index records and gaps, and deadlocks against status updates under concurrency.
 * Here: (1) pick candidate ids with a plain, non-locking read of an index; (2) lock those rows by
 * primary key only, re-checking the claim condition, with SKIP LOCKED; (3) update them, take the
 * feed counter and commit in one round trip. READ COMMITTED means no gap locks anywhere.
 *
 * @module
 */
import type { ClaimInput, StoredEvent } from '@ctlplane/core';
import type { RowDataPacket } from 'mysql2/promise';
import { inTransaction } from '../../pool.js';
import { EVENT_COLUMNS, toEvent } from '../rows.js';
import type { SqlContext } from './append.js';
import { conditions } from './where.js';

const NOW = 'UTC_TIMESTAMP(3)';
const CLAIMABLE = {
  pending: `status = 'pending' AND (lease_expires_at IS NULL OR lease_expires_at <= ${NOW})`,
  placed: `(status = 'placed' OR (status IN ('claimed', 'running') AND lease_expires_at <= ${NOW}))`,
} as const;

function filters(input: ClaimInput): { sql: string; params: unknown[] } {
  const { clauses: parts, params } = conditions([
    ['server_id = ?', input.serverId],
    ['region = ?', input.region],
    ['type IN (?)', input.types],
  ]);
  return { sql: parts.map((p) => ` AND ${p}`).join(''), params };
}

/** Candidate scans; each is served by `ix_status_lease (status, lease_expires_at, id)` or a filter index. */
function candidateSql(p: string, status: 'pending' | 'placed', f: string): string {
  const t = `\`${p}events\``;
  const unleased = (s: string) =>
    `SELECT id FROM ${t} WHERE status = '${s}' AND lease_expires_at IS NULL${f} ORDER BY id LIMIT ?`;
  const expired = (s: string) =>
    `SELECT id FROM ${t} WHERE status IN (${s}) AND lease_expires_at <= ${NOW}${f} LIMIT ?`;
  return status === 'pending'
    ? `${unleased('pending')}; ${expired("'pending'")}`
    : `${unleased('placed')}; ${expired("'claimed', 'running'")}`;
}

/** @internal */
export function claimEvents(ctx: SqlContext, input: ClaimInput): Promise<StoredEvent[]> {
  const p = ctx.prefix;
  const status = input.status ?? 'placed';
  const f = filters(input);
  // Oversample so that concurrent claimers that see the same candidates still fill their batch.
  const sample = Math.min(input.limit * 4 + 8, 4_000);
  return inTransaction(
    ctx.pool,
    'claim',
    async (tx) => {
      const [fifo, stale] = await tx.query<[RowDataPacket[], RowDataPacket[]]>(
        candidateSql(p, status, f.sql),
        [...f.params, sample, ...f.params, sample],
      );
      const candidates = [...new Set([...stale, ...fifo].map((r) => Number(r.id)))];
      if (candidates.length === 0) {
        await tx.commit('DO 0');
        return [];
      }
      const locked = await tx.query<RowDataPacket[]>(
        `SELECT ${EVENT_COLUMNS} FROM \`${p}events\` FORCE INDEX (PRIMARY) WHERE id IN (?) AND ${CLAIMABLE[status]}${f.sql} ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED`,
        [candidates, ...f.params, input.limit],
      );
      if (locked.length === 0) {
        await tx.commit('DO 0');
        return [];
      }
      const rows = locked.map(toEvent);
      const [, , meta] = await tx.commit<[unknown, unknown, RowDataPacket[]]>(
        [
          'SET @now := UTC_TIMESTAMP(3)',
          `UPDATE \`${p}feed_seq\` SET v = (@s := v) + ? WHERE id = 1`,
          'SELECT @s AS base, CAST(@now AS DATETIME(3)) AS now',
          `UPDATE \`${p}events\` SET status = ?, lease_owner = ?, lease_expires_at = DATE_ADD(@now, INTERVAL ? MICROSECOND), attempts = attempts + 1, version = version + 1, seq = (@s := @s + 1), updated_at = @now WHERE id IN (?) ORDER BY id`,
        ].join('; '),
        [
          rows.length,
          status === 'pending' ? 'pending' : 'claimed',
          input.owner,
          input.leaseMs * 1000,
          rows.map((r) => r.id),
        ],
      );
      // Numbered in id order by the UPDATE above; the values are the ones it wrote.
      const base = Number(meta[0]!.base);
      const now = meta[0]!.now as Date;
      return rows.map(
        (e, i): StoredEvent => ({
          ...e,
          status: status === 'pending' ? 'pending' : 'claimed',
          leaseOwner: input.owner,
          leaseExpiresAt: new Date(now.getTime() + input.leaseMs),
          attempts: e.attempts + 1,
          version: e.version + 1,
          seq: base + i + 1,
          updatedAt: now,
        }),
      );
    },
    ctx.beforeCommit,
  );
}
