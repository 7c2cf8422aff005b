/**
 * Load for the router benchmark: appends at a steady rate (each event stamped with the time just
 * before its append), samples MariaDB's processlist, and runs Harpoon's outbox relay (woken by this
 * process's own commits) for the pushed input.
 */
import { MemoryCursorStore } from '@ctlplane/adapters/memory';
import { type EventStore, type MessageBus, OutboxRelay } from '@ctlplane/core';
import type { Pool, RowDataPacket } from 'mysql2/promise';
import type { BenchTypes } from './router-shared.js';

type BenchStore = EventStore<BenchTypes>;

/** Append `rate` events per second for `seconds`, each placed on `<prefix><random below servers>`. */
export async function generate(
  store: BenchStore,
  o: { region: string; prefix: string; servers: number; rate: number; seconds: number },
  committed?: Map<number, number>,
  seqs?: Map<number, number>,
): Promise<{ appended: number; seconds: number; appendMs: number[] }> {
  const tickMs = 20;
  const per = Math.max(1, Math.round((o.rate * tickMs) / 1_000));
  const t0 = Date.now();
  const inflight = new Set<Promise<void>>();
  let appended = 0;
  const appendMs: number[] = [];
  for (let k = 0; ; k++) {
    const due = t0 + k * tickMs;
    if (due - t0 >= o.seconds * 1_000) break;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    while (inflight.size >= 8) await Promise.race(inflight);
    const batch = Array.from({ length: per }, () => ({
      type: 'bench.job' as const,
      payload: { t: Date.now() },
      region: o.region,
      serverId: `${o.prefix}${Math.floor(Math.random() * o.servers)}`,
    }));
    const started = Date.now();
    const p: Promise<void> = store
      .append(batch)
      .then((events) => {
        appended += per;
        const now = Date.now();
        appendMs.push(now - started);
        if (committed) for (const e of events) committed.set(e.id, now);
        if (seqs) for (const e of events) seqs.set(e.id, e.seq);
      })
      .finally(() => inflight.delete(p));
    inflight.add(p);
  }
  await Promise.all(inflight);
  return { appended, seconds: (Date.now() - t0) / 1_000, appendMs };
}

/** Samples how many connections `user` holds, from MariaDB's own processlist. */
export class ProcesslistSampler {
  readonly samples: number[] = [];
  #timer: NodeJS.Timeout | null = null;

  constructor(
    readonly pool: Pool,
    readonly user: string,
  ) {}

  async sample(): Promise<number> {
    const [rows] = await this.pool.query<RowDataPacket[]>(
      'SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE USER = ?',
      [this.user],
    );
    const n = Number(rows[0]?.n ?? 0);
    this.samples.push(n);
    return n;
  }

  start(everyMs = 250): void {
    this.#timer = setInterval(() => void this.sample().catch(() => {}), everyMs);
  }

  stop(): { max: number; mean: number } {
    if (this.#timer) clearInterval(this.#timer);
    const s = this.samples.splice(0);
    return { max: Math.max(0, ...s), mean: s.reduce((a, b) => a + b, 0) / Math.max(1, s.length) };
  }
}

/** Harpoon's outbox relay from feed position `from`, its cursor kept in memory. */
export function startRelay(store: BenchStore, bus: MessageBus, from: number): OutboxRelay {
  const cursors = new MemoryCursorStore();
  // Memory cursors set synchronously: the relay loads this position when it starts.
  void cursors.save('harpoon', from);
  const relay = new OutboxRelay({
    store,
    bus,
    cursors,
    pollMs: 50,
    batchSize: 1_000,
    maxInFlight: Number(process.env.CTLPLANE_BENCH_RELAY_IN_FLIGHT ?? 4),
  });
  relay.on('relay:error', (e) => console.error('relay error (retrying):', e.error.message));
  relay.start();
  return relay;
}
