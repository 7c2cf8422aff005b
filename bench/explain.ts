/**
 * `npm run bench -- explain`: loads a realistic events table (100,000 rows across statuses,
 * regions and servers) into MariaDB and records the `EXPLAIN` of every hot EventStore query in
 * docs/event-store.md, so the documented plans are the real ones.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { migrate } from '@ctlplane/adapters/mysql';
import type { ClaimInput } from '@ctlplane/core';
import { createPool, format, type RowDataPacket } from 'mysql2/promise';
import { EVENT_COLUMNS } from '../packages/adapters/src/mysql/events/rows.js';
import { claimStatements, serverClaimStatements } from '../packages/adapters/src/mysql/events/sql/claim.js';
import { feedStatement } from '../packages/adapters/src/mysql/events/sql/feed.js';
import { updates } from '../packages/adapters/src/mysql/events/sql/transition.js';
import type { Statement } from '../packages/adapters/src/mysql/round-trip.js';
import { machine, table } from './lib/report.js';
import { dropTables } from './lib/tables.js';

const url = process.env.CTLPLANE_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';
const p = 'explain_';
const t = `\`${p}events\``;
const pool = createPool({ uri: url, connectionLimit: 2, multipleStatements: true });
await dropTables(pool, p);
await migrate({ url, tablePrefix: p });
const statuses = [
  'pending',
  'placed',
  'claimed',
  'running',
  'done',
  'done',
  'done',
  'failed',
  'cancelled',
  'done',
];
for (let i = 0; i < 100; i++) {
  const rows = Array.from({ length: 1_000 }, (_, j) => {
    const n = i * 1_000 + j;
    const status = statuses[n % statuses.length]!;
    const leased = status === 'claimed' || status === 'running';
    return [
      n + 1,
      'droplet.create',
      `r${n % 3}`,
      status === 'pending' ? null : `hv-${n % 500}`,
      status,
      leased ? 'w' : null,
      leased ? new Date(Date.now() + (n % 2 ? 60_000 : -60_000)) : null,
      '{}',
    ];
  });
  await pool.query(
    `INSERT INTO ${t} (seq, type, region, server_id, status, lease_owner, lease_expires_at, payload, created_at, updated_at) VALUES ${rows.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(3), UTC_TIMESTAMP(3))').join(', ')}`,
    rows.flat(),
  );
}
// The counter as the loader's writes would have left it: the feed reads up to it.
await pool.query(`UPDATE \`${p}feed_seq\` SET v = (SELECT MAX(seq) FROM ${t}) WHERE id = 1`);
await pool.query(`ANALYZE TABLE ${t}`);

/** The shipped statements, as the adapter builds them (session variables set as a claim would). */
const claim = (input: ClaimInput) => claimStatements(p, input);
const window = (input: ClaimInput) => claim(input).find((s) => s.sql.includes('@found'))!;
const lockJoin = (input: ClaimInput) => claim(input).find((s) => s.sql.includes('INTO @ids'))!;
const serverLock = (input: ClaimInput) =>
  serverClaimStatements(p, input).locking.find((s) => s.sql.includes('INTO @ids'))!;
const inline = (s: Statement) => format(s.sql.replace(/ INTO @\w+/, ''), [...(s.params ?? [])] as never[]);
/** The session as a claim holding the feed counter has it. */
const HELD = 'SET @base := 0, @now := UTC_TIMESTAMP(3)';
/** The session as a feed read has it: the head, read by the statement before the page's. */
const FEED_HEAD = `SELECT v INTO @feed_head FROM \`${p}feed_seq\` WHERE id = 1`;
const placedAny: ClaimInput = { owner: 'w', limit: 50, leaseMs: 60_000 };
const placedServer: ClaimInput = { ...placedAny, serverId: 'hv-7' };
const pendingRegion: ClaimInput = { ...placedAny, status: 'pending', region: 'r1', limit: 256 };
const [placeAll] = updates(
  p,
  [2, 12, 22].map((id, i) => ({
    id,
    from: 'pending' as const,
    to: 'placed' as const,
    version: 1,
    serverId: `hv-${i}`,
    leaseOwner: 'w',
  })),
);
const queries: [string, string, string?][] = [
  ['claim: is there work? (placed, FIFO; no lock)', inline(window(placedAny))],
  ['claim: window and lock (placed, FIFO)', inline(lockJoin(placedAny)), HELD],
  [
    'claim naming a server: window and lock, before the feed counter',
    inline(serverLock(placedServer)),
    'SET @now := UTC_TIMESTAMP(3)',
  ],
  ['claim: window and lock (scheduler intake, pending in a region)', inline(lockJoin(pendingRegion)), HELD],
  [
    'claim: update the locked rows (ids held in @ids)',
    inline(claim(placedAny).find((s) => s.sql.startsWith('UPDATE JSON_TABLE'))!),
    "SET @ids := '[2, 12, 22]', @base := 0, @now := UTC_TIMESTAMP(3)",
  ],
  [
    'transition: lock and read by primary key, before the feed counter',
    `SELECT ${EVENT_COLUMNS} FROM ${t} WHERE id IN (5, 6, 7) ORDER BY id FOR UPDATE`,
  ],
  [
    'transition: one conditional UPDATE for a batch placing events on three servers',
    inline(placeAll!),
    'SET @s := 0, @now := UTC_TIMESTAMP(3)',
  ],
  [
    'feed of a region (EventRouter), up to the head read just before',
    inline({ ...feedStatement(p, 90_000, 500, { region: 'r2' }) }),
    FEED_HEAD,
  ],
  [
    'feed, all regions (outbox relay), up to the head read just before',
    inline({ ...feedStatement(p, 90_000, 500, {}) }),
    FEED_HEAD,
  ],
  [
    'query by server and status, paged',
    `SELECT id FROM ${t} WHERE id > 0 AND status IN ('placed') AND server_id = 'hv-3' ORDER BY id LIMIT 101`,
  ],
];
const sections: string[] = [];
const conn = await pool.getConnection();
for (const [title, sql, setup] of queries) {
  if (setup) await conn.query(setup);
  const [plan] = await conn.query<RowDataPacket[]>(`EXPLAIN ${sql}`);
  sections.push(
    `**${title}**\n\n\`\`\`sql\n${sql.replaceAll(t, 'events')}\n\`\`\`\n\n${table(
      ['table', 'type', 'key', 'key_len', 'rows', 'Extra'],
      plan.map((r) => [
        String(r.table).replace(p, ''),
        String(r.type),
        String(r.key),
        String(r.key_len),
        Number(r.rows),
        String(r.Extra ?? ''),
      ]),
    )}`,
  );
}
conn.release();
await dropTables(pool, p);
const [ver] = await pool.query<RowDataPacket[]>('SELECT VERSION() AS v');
await pool.end();

const doc = resolve(import.meta.dirname, '../docs/event-store.md');
const text = readFileSync(doc, 'utf8');
const block = [
  '<!-- explain:start -->',
  `Recorded by \`npm run bench -- explain\` on ${new Date().toISOString().slice(0, 10)}, ${String(ver[0]!.v)}, ${machine()}, over 100,000 events (10% pending, 10% placed, 20% leased, 60% terminal; 3 regions, 500 servers).`,
  '',
  sections.join('\n\n'),
  '<!-- explain:end -->',
].join('\n');
writeFileSync(
  doc,
  text.replace(/<!-- explain:start -->[\s\S]*<!-- explain:end -->/, () => block),
);
console.log(block);
