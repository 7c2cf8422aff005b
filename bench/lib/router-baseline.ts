/**
 * The 2012 design, for the router benchmark's baseline: every agent holds its own MariaDB
 * connection and polls its server's placed events every poll interval, then marks each done.
 * Agents that cannot connect (the server's connection limit) retry every interval.
 *
 * Args: <mysqlUrl> <tablePrefix> <count> <pollMs>
 */
import { type Connection, createConnection, type RowDataPacket } from 'mysql2/promise';
import { serveIpc, summarize } from './router-ipc.js';

const [url, prefix, countArg, pollArg] = process.argv.slice(2) as [string, string, string, string];
const count = Number(countArg);
const pollMs = Number(pollArg);
const events = `\`${prefix}events\``;
let queries = 0;
let latencies: number[] = [];
const errors: Record<string, number> = {};
let connectAttempts = 0;
const conns = new Map<number, Connection>();
let stopped = false;

async function poll(i: number): Promise<void> {
  let conn = conns.get(i);
  if (!conn) {
    connectAttempts++;
    try {
      conn = await createConnection({ uri: url, connectTimeout: 5_000 });
      conn.on('error', () => conns.delete(i));
      conns.set(i, conn);
    } catch (err) {
      const code = (err as { code?: string }).code ?? 'ERROR';
      errors[code] = (errors[code] ?? 0) + 1;
      return;
    }
  }
  queries++;
  const [rows] = await conn.query<RowDataPacket[]>(
    `SELECT id, payload FROM ${events} WHERE status = 'placed' AND server_id = ? ORDER BY id LIMIT 100`,
    [`base-${i}`],
  );
  for (const r of rows) {
    latencies.push(Date.now() - (JSON.parse(String(r.payload)) as { t: number }).t);
    queries++;
    await conn.query(
      `UPDATE ${events} SET status = 'done', version = version + 1 WHERE id = ? AND status = 'placed'`,
      [r.id],
    );
  }
}

function run(i: number): void {
  // Stagger the agents over one interval, as real hosts would be.
  setTimeout(function tick() {
    if (stopped) return;
    void poll(i)
      .catch(() => {})
      .finally(() => {
        if (!stopped) setTimeout(tick, pollMs);
      });
  }, Math.random() * pollMs);
}

for (let i = 0; i < count; i++) run(i);

serveIpc({
  reset: () => {
    queries = 0;
    connectAttempts = 0;
    latencies = [];
    for (const k of Object.keys(errors)) delete errors[k];
  },
  report: () => ({
    connected: conns.size,
    queries,
    connectAttempts,
    errors: { ...errors },
    latency: summarize(latencies),
  }),
  exit: async () => {
    stopped = true;
    await Promise.all([...conns.values()].map((c) => c.end().catch(() => {})));
    setImmediate(() => process.exit(0));
  },
});
process.send!({ id: 0, result: 'ready' });
