/**
 * The callers process of the capacity benchmark: an open-loop load of single-event creates, either
 * through Harpoon (HarpoonClient over HTTP on 127.0.0.1, coalescing with its defaults or one
 * request per call) or, for the baseline, straight into
 * MariaDB (the 2012 design: one connection per caller, one transaction per event, the pool capped).
 * Also consumes what Harpoon's relay publishes, as a router would.
 *
 * Args: none; the Harpoon token in CTLPLANE_BENCH_HARPOON_TOKEN.
 */
import { AmqpBus } from '@ctlplane/adapters/amqp';
import { HarpoonClient } from '@ctlplane/core';
import { createPool } from 'mysql2/promise';
import { type OpenLoopOptions, type OpenLoopResult, openLoop } from './capacity-open-loop.js';
import { strictPercentile } from './capacity-ramp.js';
import { serveIpc } from './router-ipc.js';
import type { BenchTypes } from './router-shared.js';
import { baselineAppend } from './store-baseline.js';

const token = process.env.CTLPLANE_BENCH_HARPOON_TOKEN ?? '';
const code = (err: unknown) => (err as { code?: string }).code ?? 'ERROR';
let consumer: AmqpBus | null = null;
let consumed = 0;

/** The step's figures without the raw latencies (they stay in this process). */
function summary(r: OpenLoopResult) {
  const { latencies, ...rest } = r;
  return {
    ...rest,
    p50: strictPercentile(latencies, r.failed, 50),
    p99: strictPercentile(latencies, r.failed, 99),
  };
}

serveIpc({
  /** One step of creates through Harpoon: coalesced (the client's defaults) or one request per call. */
  harpoon: async (arg) => {
    const o = arg as OpenLoopOptions & { url: string; coalesce: boolean };
    const client = new HarpoonClient<BenchTypes>({
      url: o.url,
      token,
      timeoutMs: 10_000,
      coalesce: o.coalesce,
    });
    try {
      const r = await openLoop(
        o,
        () => client.create({ type: 'bench.job', payload: { t: Date.now() }, region: 'cap' }),
        code,
      );
      return summary(r);
    } finally {
      await client.close().catch(() => {});
    }
  },
  /** One step of the baseline: every create its own transaction on a pool of `cap` connections. */
  direct: async (arg) => {
    const o = arg as OpenLoopOptions & { mysqlUrl: string; table: string; cap: number };
    const pool = createPool({ uri: o.mysqlUrl, connectionLimit: o.cap, connectTimeout: 5_000 });
    const payload = JSON.stringify({ t: 0 });
    try {
      return summary(await openLoop(o, () => baselineAppend(pool, o.table, payload), code));
    } finally {
      await pool.end().catch(() => {});
    }
  },
  /** Consume (and acknowledge) everything the relay publishes to `queue`. */
  consume: async (arg) => {
    const o = arg as { amqpUrl: string; exchange: string; queue: string };
    consumer = new AmqpBus({ urls: o.amqpUrl, topology: { exchange: o.exchange }, prefetch: 1_000 });
    await consumer.subscribe({ queue: o.queue, prefetch: 1_000 }, () => {
      consumed++;
    });
    return true;
  },
  consumed: () => consumed,
  exit: async () => {
    await consumer?.close().catch(() => {});
    setImmediate(() => process.exit(0));
  },
});
process.send!({ id: 0, result: 'ready' });
