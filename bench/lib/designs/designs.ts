/**
 * Claim + complete designs for `npm run bench -- store-designs`, each run by workers with one
 * connection apiece: the landed design of main 8d054bf as raw SQL, the store's current SQL (its
 * own functions, so the figures are of the shipped code), and the naive SKIP LOCKED design.
 */
import { createPool, type Pool, type RowDataPacket } from 'mysql2/promise';
import PQueue from 'p-queue';
import { claimEvents } from '../../../packages/adapters/src/mysql/events/sql/claim.js';
import { transitionEvents } from '../../../packages/adapters/src/mysql/events/sql/transition.js';
import type { SchemaName } from './schemas.js';

/** An event a claim returned. */
export interface Claimed {
  readonly id: number;
  readonly version: number;
}

/** One worker of a design. */
export interface Worker {
  claim(owner: string, serverId: string | undefined, limit: number): Promise<Claimed[]>;
  complete(owner: string, rows: readonly Claimed[]): Promise<void>;
  close(): Promise<void>;
}

/** One claim + complete design on tables `<prefix>events` and `<prefix>feed_seq`. */
export interface Design {
  readonly name: string;
  readonly schema: SchemaName;
  worker(url: string, prefix: string): Worker;
}

const BEGIN = 'SET TRANSACTION ISOLATION LEVEL READ COMMITTED; START TRANSACTION';
const NOW = 'UTC_TIMESTAMP(3)';
const ALL =
  'id, seq, type, region, server_id, status, attempts, lease_owner, lease_expires_at, idempotency_key, payload, error, result, version, created_at, updated_at';
const LEASE_US = 60_000_000;

const onePool = (url: string): Pool =>
  createPool({ uri: url, connectionLimit: 1, multipleStatements: true, timezone: 'Z' });

async function q<T = RowDataPacket[]>(c: Pool, sql: string, params: unknown[] = []): Promise<T> {
  return (await c.query(sql, params))[0] as T;
}

/** Results of a multi-statement round trip, by position (this replica of old code only). */
const nth = (results: unknown, i: number) => (results as RowDataPacket[][])[i]!;

function server(serverId: string | undefined): { sql: string; params: unknown[] } {
  return serverId === undefined ? { sql: '', params: [] } : { sql: ' AND server_id = ?', params: [serverId] };
}

/** Parse what a real store would return to its caller. */
function parse(rows: RowDataPacket[]): Claimed[] {
  return rows.map((r) => {
    JSON.parse(String(r.payload));
    return { id: Number(r.id), version: Number(r.version) };
  });
}

/**
 * The landed design (main 8d054bf) as raw SQL on one connection (a dedicated pool of one keeps
 * the transaction's connection): a non-locking, oversampled candidate read; a primary-key lock
 * of the full rows with SKIP LOCKED; then update, counter and commit. Complete: lock the full
 * rows, decide in the client, then update, counter and commit.
 */
export const landed: Design = {
  name: 'main 8d054bf: candidates, then lock by id (3 + 2 round trips)',
  schema: 'landed',
  worker(url, p) {
    const pool = onePool(url);
    const t = `\`${p}events\``;
    const seq = `\`${p}feed_seq\``;
    return {
      async claim(owner, serverId, limit) {
        const c = await pool.getConnection();
        try {
          const f = server(serverId);
          const sample = limit * 4 + 8;
          const r = await q<unknown>(
            c as unknown as Pool,
            `${BEGIN}; SELECT id FROM ${t} WHERE status = 'placed' AND lease_expires_at IS NULL${f.sql} ORDER BY id LIMIT ?; ` +
              `SELECT id FROM ${t} WHERE status IN ('claimed', 'running') AND lease_expires_at <= ${NOW}${f.sql} LIMIT ?`,
            [...f.params, sample, ...f.params, sample],
          );
          const ids = [...new Set([...nth(r, 2), ...nth(r, 3)].map((x) => Number(x.id)))];
          if (ids.length === 0) return commitEmpty(c as unknown as Pool);
          const locked = await q(
            c as unknown as Pool,
            `SELECT ${ALL} FROM ${t} FORCE INDEX (PRIMARY) WHERE id IN (?) AND (status = 'placed' OR (status IN ('claimed', 'running') AND lease_expires_at <= ${NOW}))${f.sql} ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED`,
            [ids, ...f.params, limit],
          );
          if (locked.length === 0) return commitEmpty(c as unknown as Pool);
          await q(
            c as unknown as Pool,
            `SET @now := ${NOW}; UPDATE ${seq} SET v = (@s := v) + ? WHERE id = 1; SELECT @s AS base, CAST(@now AS DATETIME(3)) AS now; ` +
              `UPDATE ${t} SET status = 'claimed', lease_owner = ?, lease_expires_at = DATE_ADD(@now, INTERVAL ? MICROSECOND), attempts = attempts + 1, version = version + 1, seq = (@s := @s + 1), updated_at = @now WHERE id IN (?) ORDER BY id; COMMIT`,
            [locked.length, owner, LEASE_US, locked.map((x) => x.id)],
          );
          return parse(locked).map((x) => ({ id: x.id, version: x.version + 1 }));
        } catch (err) {
          await c.query('ROLLBACK').catch(() => {});
          throw err;
        } finally {
          c.release();
        }
      },
      async complete(_owner, rows) {
        const c = await pool.getConnection();
        try {
          const ids = rows.map((r) => r.id);
          const locked = nth(
            await q<unknown>(
              c as unknown as Pool,
              `${BEGIN}; SELECT ${ALL} FROM ${t} WHERE id IN (?) ORDER BY id FOR UPDATE`,
              [ids],
            ),
            2,
          );
          const want = new Map(rows.map((r) => [r.id, r.version]));
          const ok = parse(locked).filter((r) => want.get(r.id) === r.version);
          await q(
            c as unknown as Pool,
            `SET @now := ${NOW}; UPDATE ${seq} SET v = (@s := v) + ? WHERE id = 1; SELECT @s AS base; ` +
              `UPDATE ${t} SET status = 'done', lease_owner = NULL, lease_expires_at = NULL, version = version + 1, seq = (@s := @s + 1), updated_at = @now WHERE id IN (?) ORDER BY id; COMMIT`,
            [ok.length, ok.map((r) => r.id)],
          );
        } catch (err) {
          await c.query('ROLLBACK').catch(() => {});
          throw err;
        } finally {
          c.release();
        }
      },
      close: () => pool.end(),
    };
  },
};

async function commitEmpty(c: Pool): Promise<Claimed[]> {
  await q(c, 'COMMIT');
  return [];
}

/**
 * The store's shipped SQL (claimEvents, transitionEvents) on one connection per worker, the
 * workers' writes taking turns 4 at a time, as an EventStore on the MySQL driver does by default.
 */
const writes = new PQueue({ concurrency: 4 });
export const shipped: Design = {
  name: 'shipped store: counter first, one round trip per claim and per complete, 4 writes at a time',
  schema: 'trimmed',
  worker(url, prefix) {
    const pool = onePool(url);
    const ctx = { pool, prefix };
    return {
      async claim(owner, serverId, limit) {
        const input = { owner, limit, leaseMs: 60_000, ...(serverId ? { serverId } : {}) };
        const rows = await writes.add(() => claimEvents(ctx, input));
        return rows.map((e) => ({ id: e.id, version: e.version }));
      },
      async complete(owner, rows) {
        const inputs = rows.map((r) => ({
          id: r.id,
          version: r.version,
          leaseOwner: owner,
          to: 'done' as const,
        }));
        const out = await writes.add(() => transitionEvents(ctx, inputs));
        if (out.some((o) => !o.ok)) throw new Error('complete: a transition was refused');
      },
      close: () => pool.end(),
    };
  },
};

/** The naive design of issue 14: SKIP LOCKED on an index on status, no feed, autocommit complete. */
export const naive: Design = {
  name: 'naive SKIP LOCKED on ix_status, no feed (4 + 1 round trips)',
  schema: 'naive',
  worker(url, p) {
    const pool = onePool(url);
    const t = `\`${p}events\``;
    return {
      async claim(owner, serverId, limit) {
        const c = await pool.getConnection();
        try {
          const f = server(serverId);
          await c.query('START TRANSACTION');
          const [rows] = await c.query<RowDataPacket[]>(
            `SELECT id FROM ${t} WHERE status = 'placed'${f.sql} ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED`,
            [...f.params, limit],
          );
          if (rows.length > 0) {
            await c.query(
              `UPDATE ${t} SET status = 'claimed', owner = ?, updated_at = ${NOW} WHERE id IN (?)`,
              [owner, rows.map((r) => r.id)],
            );
          }
          await c.query('COMMIT');
          return rows.map((r) => ({ id: Number(r.id), version: 0 }));
        } catch (err) {
          await c.query('ROLLBACK').catch(() => {});
          throw err;
        } finally {
          c.release();
        }
      },
      async complete(_owner, rows) {
        await pool.query(`UPDATE ${t} SET status = 'done', updated_at = ${NOW} WHERE id IN (?)`, [
          rows.map((r) => r.id),
        ]);
      },
      close: () => pool.end(),
    };
  },
};

export const DESIGNS: readonly Design[] = [landed, shipped, naive];
