/**
 * `tsx scripts/cluster/feed-check.ts --writers <url,url…> --reader <url> [--total n]`: the changes
 * feed across Galera nodes. 16 appenders spread round-robin over the writer URLs, 4 followers by
 * feed position on the reader URL; prints holes seen, appends failed, retries (by error number),
 * and whether every follower saw every committed position. Then 200 read-your-write probes: an
 * append through the first writer URL, at once a feed read through the reader URL.
 */
import { parseArgs } from 'node:util';
import { MysqlEventStoreDriver, migrate } from '@ctlplane/adapters/mysql';
import { defineEventTypes, EventStore } from '@ctlplane/core';
import { createConnection, type RowDataPacket } from 'mysql2/promise';
import { z } from 'zod';

const { values } = parseArgs({
  options: {
    writers: { type: 'string' },
    reader: { type: 'string' },
    total: { type: 'string', default: '5000' },
  },
});
const writerUrls = (values.writers ?? '').split(',').filter(Boolean);
const readerUrl = values.reader;
if (writerUrls.length === 0 || !readerUrl) throw new Error('--writers and --reader are required');
const total = Number(values.total);
const tablePrefix = `fc${Date.now().toString(36)}_`;
const types = defineEventTypes({ blob: z.object({ i: z.number() }) });
const store = (url: string, poolSize: number) =>
  new EventStore({ driver: new MysqlEventStoreDriver({ url, tablePrefix, poolSize }), types });
const say = (line: string): void => void process.stdout.write(`${line}\n`);

await migrate({ url: writerUrls[0]!, tablePrefix });
const writing = writerUrls.map((u) => store(u, 8));
const reading = store(readerUrl, 4);
const retries = new Map<string, number>();
for (const s of writing)
  s.on('store:retry', ({ error }) => {
    const cause = error.cause as { errno?: number; code?: string } | undefined;
    const key = `${cause?.errno ?? ''} ${cause?.code ?? error.message.slice(0, 60)}`;
    retries.set(key, (retries.get(key) ?? 0) + 1);
  });

const start = await reading.head();
let next = 0;
const committed: number[] = [];
const failures = new Map<string, number>();
const holes: string[] = [];
const appender = async (w: number) => {
  while (next < total) {
    next++;
    try {
      const [e] = await writing[w % writing.length]!.append([
        { type: 'blob', payload: { i: next }, region: 'nyc1' },
      ]);
      committed.push(e!.seq);
    } catch (err) {
      const key = (err as Error).message.slice(0, 120);
      failures.set(key, (failures.get(key) ?? 0) + 1);
    }
  }
};
let writingDone = false;
const follower = async () => {
  const seen = new Set<number>();
  let cursor = start;
  for (;;) {
    const page = await reading.readFeed(cursor, { limit: 100 });
    let expected = cursor + 1;
    for (const e of page.events) {
      if (e.seq !== expected) holes.push(`after ${cursor}: read ${e.seq}, expected ${expected}`);
      seen.add(e.seq);
      expected = e.seq + 1;
    }
    cursor = page.cursor;
    if (page.events.length === 0) {
      if (writingDone && cursor >= (await reading.head())) return seen;
      await new Promise((r) => setTimeout(r, 5));
    }
  }
};
const started = Date.now();
const followers = Array.from({ length: 4 }, follower);
await Promise.all(Array.from({ length: 16 }, (_, w) => appender(w)));
writingDone = true;
const seen = await Promise.all(followers);
const ms = Date.now() - started;
const missed = seen.map((s) => committed.filter((q) => !s.has(q)).length);
say(`writers ${writerUrls.join(' ')} reader ${readerUrl}`);
say(
  `appends committed ${committed.length} of ${total} in ${(ms / 1000).toFixed(1)} s, failed ${[...failures.values()].reduce((a, b) => a + b, 0)}`,
);
for (const [k, v] of failures) say(`  failed ${v}× ${k}`);
for (const [k, v] of retries) say(`  retried ${v}× ${k}`);
say(
  `positions dense: ${new Set(committed).size === committed.length} (max ${Math.max(...committed) - start}, committed ${committed.length})`,
);
say(`holes seen by followers: ${holes.length}${holes.length ? ` (first: ${holes[0]})` : ''}`);
say(`committed positions never seen, per follower: ${missed.join(' ')}`);

// Read-your-write across nodes: append through writer 1, read the feed at once through the reader.
const conn = await createConnection({ uri: readerUrl });
const [[sw]] = await conn.query<RowDataPacket[]>('SELECT @@global.wsrep_sync_wait AS v');
await conn.end();
let stale = 0;
for (let i = 0; i < 200; i++) {
  const before = await writing[0]!.head();
  const [e] = await writing[0]!.append([{ type: 'blob', payload: { i }, region: 'nyc1' }]);
  const page = await reading.readFeed(before, { limit: 1000 });
  if (!page.events.some((x) => x.seq === e!.seq)) stale++;
}
say(`read-your-write probes (reader wsrep_sync_wait=${sw!.v}): ${stale} of 200 did not see the append yet`);
await Promise.all([...writing, reading].map((s) => s.close()));
