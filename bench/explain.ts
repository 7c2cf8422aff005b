/**
 * `npm run bench -- explain`: loads a realistic events table (100,000 rows across statuses,
 * regions and servers) into MariaDB and records the `EXPLAIN` of every hot EventStore query in
 * docs/event-store.md, so the documented plans are the real ones.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { migrate } from '@ctlplane/adapters/mysql';
import { createPool, type RowDataPacket } from 'mysql2/promise';
import { machine, table } from './lib/report.js';

const url = process.env.CTLPLANE_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';
const p = 'explain_';
const t = `\`${p}events\``;
const pool = createPool({ uri: url, connectionLimit: 2, multipleStatements: true });
for (const x of ['events', 'feed_seq', 'migrations', 'fleet_servers', 'fleet_allocations']) {
  await pool.query(`DROP TABLE IF EXISTS \`${p}${x}\``);
}
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
await pool.query(`ANALYZE TABLE ${t}`);

const queries: [string, string][] = [
  [
    'claim candidates: placed work, FIFO',
    `SELECT id FROM ${t} WHERE status = 'placed' AND lease_expires_at IS NULL ORDER BY id LIMIT 208`,
  ],
  [
    'claim candidates: placed work of one server',
    `SELECT id FROM ${t} WHERE status = 'placed' AND lease_expires_at IS NULL AND server_id = 'hv-7' ORDER BY id LIMIT 208`,
  ],
  [
    'claim candidates: expired leases',
    `SELECT id FROM ${t} WHERE status IN ('claimed', 'running') AND lease_expires_at <= UTC_TIMESTAMP(3) LIMIT 208`,
  ],
  [
    'scheduler intake: pending in a region',
    `SELECT id FROM ${t} WHERE status = 'pending' AND lease_expires_at IS NULL AND region = 'r1' ORDER BY id LIMIT 208`,
  ],
  [
    'claim lock: by primary key only',
    `SELECT id FROM ${t} FORCE INDEX (PRIMARY) WHERE id IN (2, 12, 22, 32) AND (status = 'placed' OR (status IN ('claimed', 'running') AND lease_expires_at <= UTC_TIMESTAMP(3))) ORDER BY id LIMIT 50 FOR UPDATE SKIP LOCKED`,
  ],
  ['transition lock', `SELECT * FROM ${t} WHERE id IN (5, 6, 7) ORDER BY id FOR UPDATE`],
  [
    'feed of a region (EventRouter)',
    `SELECT id FROM ${t} WHERE seq > 90000 AND region = 'r2' ORDER BY seq LIMIT 500`,
  ],
  ['feed, all regions', `SELECT * FROM ${t} WHERE seq > 90000 ORDER BY seq LIMIT 500`],
  [
    'query by server and status, paged',
    `SELECT id FROM ${t} WHERE id > 0 AND status IN ('placed') AND server_id = 'hv-3' ORDER BY id LIMIT 101`,
  ],
];
const sections: string[] = [];
for (const [title, sql] of queries) {
  const [plan] = await pool.query<RowDataPacket[]>(`EXPLAIN ${sql}`);
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
for (const x of ['events', 'feed_seq', 'migrations', 'fleet_servers', 'fleet_allocations']) {
  await pool.query(`DROP TABLE IF EXISTS \`${p}${x}\``);
}
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
writeFileSync(doc, text.replace(/<!-- explain:start -->[\s\S]*<!-- explain:end -->/, block));
console.log(block);
