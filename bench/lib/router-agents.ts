/**
 * The agents process of the router benchmark: thousands of Agent clients over WebSocket on
 * loopback, each a server of the region. Records event-to-agent latency (agent receipt minus the
 * `t` the load generator stamped just before appending).
 *
 * Args: <routerUrl> <region>
 */
import { WsConnector } from '@ctlplane/adapters/ws';
import { Agent } from '@ctlplane/core';
import { serveIpc, summarize } from './router-ipc.js';
import { type BenchTypes, benchKeyring, benchTypes } from './router-shared.js';
import { LoopDelay } from './stage-clock.js';

const [routerUrl, region] = process.argv.slice(2) as [string, string];
const keys = benchKeyring();
const connector = new WsConnector();
const agents: Agent<BenchTypes>[] = [];
let latencies: number[] = [];
let received: number[] = []; // pairs: event id, receipt time
let redeliveries = 0;
const loop = new LoopDelay();

function makeAgent(i: number) {
  const serverId = `hv-${i}`;
  const agent = new Agent({
    serverId,
    token: keys.sign({ serverId, region }),
    urls: [routerUrl],
    connector,
    types: benchTypes,
    concurrency: 4,
    // The simulated work is instant: acknowledge `done` only (one store change per event, not two).
    ackRunning: false,
    backoff: { initialMs: 200, maxMs: 5_000 },
    metrics: () => ({ cpuFree: 8, memFreeMb: 16_000 }),
    handlers: {
      'bench.job': (e) => {
        const now = Date.now();
        latencies.push(now - e.payload.t);
        received.push(e.id, now);
        return undefined;
      },
    },
  });
  agent.on('agent:redelivery', () => redeliveries++);
  return agent;
}

serveIpc({
  /** Grow to `n` agents (ids hv-0 … hv-(n-1)), 250 connecting at a time; or shrink to `n`. */
  scale: async (arg) => {
    const n = arg as number;
    while (agents.length > n) await agents.pop()!.stop();
    while (agents.length < n) {
      const batch: Agent<BenchTypes>[] = [];
      for (let k = 0; k < 250 && agents.length < n; k++) {
        const a = makeAgent(agents.length);
        agents.push(a);
        batch.push(a);
      }
      await Promise.all(batch.map((a) => a.start()));
    }
    return agents.filter((a) => a.connected).length;
  },
  connected: () => agents.filter((a) => a.connected).length,
  reset: () => {
    latencies = [];
    received = [];
    redeliveries = 0;
    loop.take();
  },
  report: () => ({ ...summarize(latencies), redeliveries, received }),
  memory: () => process.memoryUsage().rss,
  loop: () => loop.take(),
  exit: async () => {
    await Promise.all(agents.map((a) => a.stop()));
    setImmediate(() => process.exit(0));
  },
});
process.send!({ id: 0, result: 'ready' });
