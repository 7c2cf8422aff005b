/**
 * The feed's guarantee under stress: 8 writers in 2 processes mix appends, claims and transitions,
 * pause at random before they take the feed counter, and one holds a numbered, uncommitted change
 * for 3 s. Followers by feed position check every page, re-read what they saw, and at the end
 * account for every committed change: once a position is visible, every lower position is visible
 * or never will exist (its event changed again, at a higher position). A follower by id, in the
 * same harness, must report a gap (the negative control).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { MysqlEventStoreDriver, migrate } from '@ctlplane/adapters/mysql';
import { EventStore } from '@ctlplane/core';
import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { testTypes } from '../contract/event-store.fixtures.js';
import { dropPrefixed, testPool, uniquePrefix } from '../support/mysql.js';
import { describeWith } from '../support/requires.js';
import { mysqlUrl } from '../support/services.js';
import { type Change, FeedFollower, IdFollower, unaccounted } from './fixtures/feed-followers.js';

const WRITER = fileURLToPath(new URL('./fixtures/feed-writer.ts', import.meta.url));

function writers(
  prefix: string,
  seed: number,
  holdMs: number,
): { child: ChildProcess; changes: Promise<Change[]> } {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', WRITER, prefix, '4', '8', String(seed), String(holdMs)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  child.stdout!.on('data', (d) => {
    out += d;
  });
  const changes = new Promise<Change[]>((resolve, reject) =>
    child.on('exit', (code) => {
      const lines = out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Change & { done?: boolean });
      if (code !== 0 || !lines.at(-1)?.done) reject(new Error(`feed writer exited ${code}`));
      else resolve(lines.slice(0, -1));
    }),
  );
  return { child, changes };
}

describeWith('mysql', 'MySQL feed under stress: no gaps, every change accounted for', () => {
  const tablePrefix = uniquePrefix('fst');
  const admin = testPool({ connectionLimit: 2 });
  const reader = new EventStore({
    driver: new MysqlEventStoreDriver({ url: mysqlUrl(), tablePrefix, poolSize: 2 }),
    types: testTypes,
  });

  beforeAll(async () => {
    await migrate({ url: mysqlUrl(), tablePrefix });
  });
  afterAll(async () => {
    await reader.close();
    await dropPrefixed(admin, tablePrefix);
    await admin.end();
  });

  it('8 writers in 2 processes, random pauses, one held commit: followers by position see every change', async () => {
    const runs = [writers(tablePrefix, 1, 3_000), writers(tablePrefix, 2, 0)];
    const followers = [new FeedFollower(reader, 1), new FeedFollower(reader, 2)];
    const control = new IdFollower(async (after) => {
      const [rows] = await admin.query<RowDataPacket[]>(
        `SELECT id, seq, version FROM \`${tablePrefix}events\` WHERE id > ? ORDER BY id LIMIT 50`,
        [after],
      );
      return rows.map((r) => ({ id: Number(r.id), seq: Number(r.seq), version: Number(r.version) }));
    });
    let writing = true;
    const all = Promise.all(runs.map((r) => r.changes)).finally(() => {
      writing = false;
    });
    const follow = async (step: () => Promise<boolean>) => {
      while (writing) if (!(await step())) await new Promise((r) => setTimeout(r, 5));
    };
    await Promise.all([...followers.map((f) => follow(() => f.step())), follow(() => control.step()), all]);
    const head = await reader.head();
    for (const f of followers) await f.drain(head);
    while (await control.step()) {}
    const changes = (await all).flat();

    expect(changes.length).toBeGreaterThan(500);
    // Positions are handed out densely and once: every position up to the head is one committed change.
    const positions = changes.map((c) => c.seq).sort((a, b) => a - b);
    expect(positions).toEqual(Array.from({ length: head }, (_, i) => i + 1));
    for (const f of followers) {
      expect(f.errors).toEqual([]);
      expect(f.pages).toBeGreaterThan(20);
      expect(unaccounted(changes, f.seen, f.holes)).toEqual([]);
    }
    // The control, following by id, misses committed changes: it reports a gap.
    expect(unaccounted(changes, control.seen, new Set()).length).toBeGreaterThan(0);
  });
});
