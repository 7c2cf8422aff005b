/**
 * Frames that used to crash or burn the router (findings 1 and 6, the 1009-instead-of-4004 doc
 * mismatch) and fast-check frames around them, sent before and after a hello.
 */
import fc from 'fast-check';
import WebSocket from 'ws';
import { type Attack, type AttackContext, pool, range } from '../attack.js';
import { closedWithin, helloAgent, openWs } from '../net.js';
import { CARELESS_SERVER } from '../types.js';

const PROTOCOL_ERROR = 4004;

/** An ack whose result nests `depth` arrays deep. */
const deepAck = (depth: number): string =>
  `{"type":"ack","acks":[{"id":1,"status":"done","result":${'['.repeat(depth)}${']'.repeat(depth)}}]}`;

/** A heartbeat with `n` metrics. */
const wideHeartbeat = (n: number): string =>
  `{"type":"heartbeat","at":1,"metrics":{${range(n)
    .map((i) => `"m${i}":1`)
    .join(',')}}}`;

/** Send `frame` on a fresh connection (after a hello as the careless agent when `asAgent`). */
async function sendOne(
  ctx: AttackContext,
  frame: string | Buffer,
  asAgent: string | null,
  what: string,
): Promise<number | null> {
  const probe = asAgent
    ? await helloAgent(ctx.router.url, asAgent, ctx.agentToken(asAgent))
    : await openWs(ctx.router.url);
  if (!probe || probe.ws.readyState !== WebSocket.OPEN) {
    ctx.expect(false, `${what}: could not open a connection to send it`);
    return null;
  }
  probe.ws.send(frame, { binary: false });
  const closed = await closedWithin(probe, 5_000);
  return closed?.code ?? null;
}

/** Send every frame, `conc` at a time; expect each connection closed with 4004. */
async function expectRefused(
  ctx: AttackContext,
  frames: readonly (string | Buffer)[],
  asAgent: boolean,
  what: string,
  conc = 20,
): Promise<void> {
  const codes = new Map<string, number>();
  await pool(frames, conc, async (frame, i) => {
    // One careless server per connection at once: two connections of one server replace each other.
    const code = await sendOne(ctx, frame, asAgent ? `${CARELESS_SERVER}-${i % conc}` : null, what);
    const k = String(code ?? 'open');
    codes.set(k, (codes.get(k) ?? 0) + 1);
  });
  const text = [...codes].map(([k, n]) => `${k} ×${n}`).join(', ');
  ctx.note(`${what}: ${frames.length} sent, closes ${text}`);
  ctx.expect(
    codes.get(String(PROTOCOL_ERROR)) === frames.length,
    `${what}: every connection closed 4004 (${text})`,
  );
}

export const deepFrame: Attack = {
  name: 'deep-frame',
  finding: '1',
  what: 'unauthenticated ack frames nested 1,700 and 100,000 deep (3.4 KB used to crash the router)',
  target: 'router',
  async run(ctx) {
    const n = ctx.quick ? 40 : 200;
    await expectRefused(
      ctx,
      range(n).map(() => deepAck(1_700)),
      false,
      'ack nested 1,700 deep, before hello',
    );
    await expectRefused(
      ctx,
      range(n / 4).map(() => deepAck(100_000)),
      false,
      'ack nested 100,000 deep, before hello',
    );
    await expectRefused(
      ctx,
      range(n / 4).map(() => deepAck(1_700)),
      true,
      'ack nested 1,700 deep, after hello',
    );
  },
};

export const hugeHeartbeats: Attack = {
  name: 'huge-heartbeats',
  finding: '6',
  what: 'heartbeats of 75,000 metrics, unauthenticated and from a welcomed agent',
  target: 'router',
  async run(ctx) {
    const frame = wideHeartbeat(75_000);
    const n = ctx.quick ? 10 : 30;
    await expectRefused(
      ctx,
      range(n).map(() => frame),
      false,
      '75,000-metric heartbeat, before hello',
      5,
    );
    await expectRefused(
      ctx,
      range(n).map(() => frame),
      true,
      '75,000-metric heartbeat, after hello',
      2,
    );
  },
};

export const oversizedFrame: Attack = {
  name: 'oversized-frame',
  finding: 'doc',
  what: 'frames over the byte budgets and over ws maxPayload, and invalid UTF-8 (must close 4004, not 1009/1007)',
  target: 'router',
  async run(ctx) {
    const n = ctx.quick ? 5 : 20;
    const pad = (bytes: number): string => `{"type":"hello","x":"${'x'.repeat(bytes)}"}`;
    await expectRefused(
      ctx,
      range(n).map(() => pad(20_000)),
      false,
      '20 kB frame before hello',
      5,
    );
    await expectRefused(
      ctx,
      range(n).map(() => pad(2 * 1024 * 1024)),
      false,
      '2 MiB frame before hello',
      2,
    );
    await expectRefused(
      ctx,
      range(n).map(() => pad(2 * 1024 * 1024)),
      true,
      '2 MiB frame after hello',
      2,
    );
    const badUtf8 = Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]);
    await expectRefused(
      ctx,
      range(n).map(() => badUtf8),
      false,
      'invalid UTF-8 text frame',
      5,
    );
  },
};

/** A frame-shaped value: the protocol's types with fields of arbitrary JSON. */
const frameish = fc.oneof(
  fc.jsonValue({ maxDepth: 6 }),
  fc.record(
    {
      type: fc.constantFrom(
        'hello',
        'ack',
        'heartbeat',
        'snapshot',
        'welcome',
        'events',
        'pong',
        '__proto__',
      ),
      protocol: fc.oneof(fc.constant(1), fc.jsonValue({ maxDepth: 2 })),
      token: fc.string({ maxLength: 200 }),
      serverId: fc.oneof(fc.constant(CARELESS_SERVER), fc.string({ maxLength: 300 })),
      cursor: fc.oneof(fc.constant(null), fc.integer(), fc.double(), fc.string()),
      acks: fc.array(
        fc.record(
          {
            id: fc.oneof(fc.integer(), fc.double(), fc.string()),
            status: fc.string(),
            result: fc.jsonValue({ maxDepth: 8 }),
          },
          { requiredKeys: [] },
        ),
        { maxLength: 30 },
      ),
      metrics: fc.dictionary(
        fc.string({ maxLength: 80 }),
        fc.oneof(fc.double(), fc.string(), fc.jsonValue({ maxDepth: 2 })),
        {
          maxKeys: 80,
        },
      ),
      at: fc.oneof(fc.integer(), fc.double(), fc.string()),
    },
    { requiredKeys: ['type'] },
  ),
);

export const fuzzFrames: Attack = {
  name: 'fuzz-frames',
  finding: 'neighbour',
  what: 'fast-check frames (protocol-shaped and arbitrary JSON, raw strings) before and after a hello',
  target: 'router',
  async run(ctx) {
    const runs = ctx.quick ? 150 : 800;
    const samples = fc.sample(
      fc.tuple(
        fc.boolean(),
        fc.oneof(
          { weight: 4, arbitrary: frameish.map((v) => JSON.stringify(v) ?? 'null') },
          fc.string({ maxLength: 500 }),
        ),
      ),
      { numRuns: runs, seed: ctx.seed },
    );
    const codes = new Map<string, number>();
    await pool(samples, 16, async ([asAgent, frame], i) => {
      const id = `${CARELESS_SERVER}-f${i}`;
      const probe = asAgent
        ? await helloAgent(ctx.router.url, id, ctx.agentToken(id))
        : await openWs(ctx.router.url);
      if (!probe || probe.ws.readyState !== WebSocket.OPEN) {
        codes.set('no connection', (codes.get('no connection') ?? 0) + 1);
        return;
      }
      probe.ws.send(frame);
      // A frame the router accepts leaves the connection open: that is fine, as is 4004.
      const closed = await closedWithin(probe, 1_000);
      if (!closed) probe.ws.terminate();
      const k = String(closed?.code ?? 'open');
      codes.set(k, (codes.get(k) ?? 0) + 1);
    });
    const text = [...codes].map(([k, n]) => `${k} ×${n}`).join(', ');
    ctx.note(`${runs} generated frames (seed ${ctx.seed}): ${text}`);
    // 4001/4003: a generated hello with a made-up token or server; 4006: a generated hello of a
    // careless server replaced that server's other connection.
    const unexpected = [...codes.keys()].filter((k) => !['open', '4001', '4003', '4004', '4006'].includes(k));
    ctx.expect(
      unexpected.length === 0,
      `every generated frame refused with a 400x close or accepted (${text})`,
    );
  },
};
