/**
 * The well-behaved client, in a process of its own so that the attackers' work never delays its
 * clock: an authenticated Harpoon caller that creates an event placed on the good agent's server
 * and reads it back, open-loop at a fixed rate, and that agent (on the router) receiving it.
 * Each operation's latency and failure goes to the parent over IPC in batches.
 *
 * Operations: `create` and `get` (HTTP round trips to Harpoon), `deliver` (from the start of the
 * create to the agent's handler: Harpoon, its relay, RabbitMQ, the router and the WebSocket).
 */
import { WsConnector } from '@ctlplane/adapters/ws';
import { Agent, AgentKeyring, HarpoonClient } from '@ctlplane/core';
import { type AbuseSchemas, abuseTypes, ENV, env, GOOD_SERVER, REGION } from './types.js';

/** One measured operation. */
export interface GoodSample {
  readonly op: 'create' | 'get' | 'deliver' | 'agent';
  /** When it started (epoch ms). */
  readonly at: number;
  readonly ms: number;
  readonly ok: boolean;
  readonly error?: string;
}

const RATE = Number(process.env.ABUSE_GOOD_RATE ?? 10);
/** A delivery not seen within this long is a failure. */
const DELIVER_TIMEOUT_MS = 10_000;
const MAX_IN_FLIGHT = 200;

const out: GoodSample[] = [];
const record = (s: GoodSample): void => void out.push(s);
const flush = setInterval(() => {
  if (out.length) process.send!({ samples: out.splice(0) });
}, 250);

const harpoon = new HarpoonClient<AbuseSchemas>({
  url: env(ENV.harpoonUrl),
  token: env(ENV.goodToken),
  timeoutMs: 10_000,
});
const keyring = new AgentKeyring({ keys: [{ kid: 'abuse', secret: env(ENV.agentSecret) }] });
const waiting = new Map<number, { at: number; timer: NodeJS.Timeout }>();
const early = new Map<number, number>();
const agent = new Agent<AbuseSchemas>({
  serverId: GOOD_SERVER,
  token: () => keyring.sign({ serverId: GOOD_SERVER, region: REGION }),
  urls: [env(ENV.routerUrl)],
  connector: new WsConnector(),
  types: abuseTypes,
  handlers: { 'abuse.job': async (e) => ({ n: e.payload.n }) },
});
let stopping = false;
agent.on('agent:event', ({ event }) => {
  const w = waiting.get(event.id);
  if (!w) {
    if (!early.has(event.id) && event.status === 'placed') early.set(event.id, Date.now());
    return;
  }
  clearTimeout(w.timer);
  waiting.delete(event.id);
  record({ op: 'deliver', at: w.at, ms: Date.now() - w.at, ok: true });
});
agent.on('agent:disconnected', (e) => {
  if (!stopping)
    record({ op: 'agent', at: Date.now(), ms: 0, ok: false, error: `disconnected: ${e.reason}` });
});
agent.on('agent:acked', (e) => {
  if (!e.ok)
    record({ op: 'agent', at: Date.now(), ms: 0, ok: false, error: `ack ${e.status} refused: ${e.code}` });
});
await agent.start();

let n = 0;
let inFlight = 0;
async function once(): Promise<void> {
  const at = Date.now();
  let id: number;
  try {
    const e = await harpoon.create({
      type: 'abuse.job',
      payload: { n: n++ },
      region: REGION,
      serverId: GOOD_SERVER,
    });
    record({ op: 'create', at, ms: Date.now() - at, ok: true });
    id = e.id;
  } catch (err) {
    record({ op: 'create', at, ms: Date.now() - at, ok: false, error: (err as Error).message });
    return;
  }
  const seen = early.get(id);
  if (seen !== undefined) {
    early.delete(id);
    record({ op: 'deliver', at, ms: seen - at, ok: true });
  } else {
    const timer = setTimeout(() => {
      waiting.delete(id);
      record({ op: 'deliver', at, ms: DELIVER_TIMEOUT_MS, ok: false, error: 'not delivered in time' });
    }, DELIVER_TIMEOUT_MS);
    waiting.set(id, { at, timer });
  }
  const g = Date.now();
  try {
    await harpoon.get(id);
    record({ op: 'get', at: g, ms: Date.now() - g, ok: true });
  } catch (err) {
    record({ op: 'get', at: g, ms: Date.now() - g, ok: false, error: (err as Error).message });
  }
}

const ticker = setInterval(() => {
  if (inFlight >= MAX_IN_FLIGHT) {
    record({
      op: 'create',
      at: Date.now(),
      ms: 0,
      ok: false,
      error: `${MAX_IN_FLIGHT} operations in flight`,
    });
    return;
  }
  inFlight++;
  void once().finally(() => inFlight--);
}, 1_000 / RATE);

process.on('message', (m: { stop?: boolean }) => {
  if (!m.stop) return;
  stopping = true;
  clearInterval(ticker);
  void (async () => {
    const deadline = Date.now() + DELIVER_TIMEOUT_MS + 1_000;
    while ((inFlight > 0 || waiting.size > 0) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    await agent.stop();
    clearInterval(flush);
    process.send!({ samples: out.splice(0), done: true }, undefined, {}, () => process.exit(0));
  })();
});
process.send!({ ready: true });
