/**
 * Bodies that used to cost Harpoon before they were refused: payloads and results of megabytes
 * (finding 7), a 4M-item events list (finding 15), and fast-check bodies and query strings whose
 * answers must never be a 5xx nor carry the database's own text (finding 11's neighbours).
 */
import fc from 'fast-check';
import { type Attack, type AttackContext, pool, range } from '../attack.js';
import { http, raw } from '../net.js';
import { REGION } from '../types.js';

/** Send `body` `n` times, `conc` at a time; expect `status` within `maxMs` each. */
async function expectAnswer(
  ctx: AttackContext,
  what: string,
  o: { path: string; body: string; token?: string; status: number; maxMs: number; n: number; conc?: number },
): Promise<void> {
  const seen = new Map<number, number>();
  let slowest = 0;
  await pool(range(o.n), o.conc ?? 2, async () => {
    const r = await http(ctx.harpoon.url, { method: 'POST', path: o.path, token: o.token, body: o.body });
    seen.set(r.status, (seen.get(r.status) ?? 0) + 1);
    slowest = Math.max(slowest, r.ms);
  });
  const text = [...seen].map(([k, v]) => `${k} ×${v}`).join(', ');
  ctx.note(`${what}: ${text}, slowest ${slowest} ms`);
  ctx.expect(seen.get(o.status) === o.n, `${what}: answered ${o.status}`);
  ctx.expect(slowest <= o.maxMs, `${what}: refused within ${o.maxMs} ms`);
}

/**
 * A body Harpoon refuses before reading it: answered `status` and closed, never drained. The
 * answer can be lost to the reset a close with unread bytes causes; a close is what must happen.
 */
async function expectRefusedUnread(
  ctx: AttackContext,
  what: string,
  body: string,
  token: string | null,
  status: string,
  n: number,
): Promise<void> {
  const seen = new Map<string, number>();
  let slowest = 0;
  await pool(range(n), 2, async () => {
    const auth = token ? `Authorization: Bearer ${token}\r\n` : '';
    const head = `POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n${auth}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
    const r = await raw(ctx.harpoon.host, ctx.harpoon.port, [head, body], 5_000, 4_096);
    const k = /^HTTP\/1\.1 (\d{3})/.exec(r.status)?.[1] ?? (r.closed ? 'closed, answer lost' : 'open');
    seen.set(k, (seen.get(k) ?? 0) + 1);
    slowest = Math.max(slowest, r.ms);
  });
  const text = [...seen].map(([k, v]) => `${k} ×${v}`).join(', ');
  ctx.note(`${what}: ${text}, closed within ${slowest} ms`);
  ctx.expect(
    [...seen.keys()].every((k) => k === status || k === 'closed, answer lost'),
    `${what}: answered ${status} and closed`,
  );
}

export const bigBodies: Attack = {
  name: 'big-bodies',
  finding: '7',
  what: 'creates with 7 MB payloads, transitions with 7 MB results, 9 MB bodies, unauthenticated 7 MB bodies',
  target: 'harpoon',
  async run(ctx) {
    const n = ctx.quick ? 6 : 20;
    const big = 'x'.repeat(7_000_000);
    const target = await ctx.careless.create({
      type: 'abuse.job',
      payload: { n: 0 },
      region: 'abuse-careless',
    });
    const event = JSON.stringify({
      event: { type: 'abuse.blob', payload: { data: big }, region: 'abuse-careless' },
    });
    const result = JSON.stringify({ transition: { id: target.id, to: 'done', result: { data: big } } });
    const t = ctx.carelessToken;
    await expectAnswer(ctx, '7 MB payload', {
      path: '/v1/events',
      body: event,
      token: t,
      status: 400,
      maxMs: 2_000,
      n,
    });
    await expectAnswer(ctx, '7 MB result', {
      path: '/v1/transitions',
      body: result,
      token: t,
      status: 400,
      maxMs: 2_000,
      n,
    });
    const nine = JSON.stringify({
      event: { type: 'abuse.blob', payload: { data: 'x'.repeat(9_000_000) }, region: 'a' },
    });
    await expectRefusedUnread(ctx, '9 MB body', nine, t, '413', n);
    await expectRefusedUnread(ctx, '7 MB body without a token', event, null, '401', n);
  },
};

export const hugeEventsList: Attack = {
  name: 'huge-events-list',
  finding: '15',
  what: 'an events list of 4M items (8 MB, under maxBodyBytes) and of 5,001 events',
  target: 'harpoon',
  async run(ctx) {
    const n = ctx.quick ? 6 : 20;
    const t = ctx.carelessToken;
    const four = `{"events":[${'0,'.repeat(3_999_999)}0]}`;
    await expectAnswer(ctx, '4M-item list', {
      path: '/v1/events',
      body: four,
      token: t,
      status: 400,
      maxMs: 1_000,
      n,
    });
    const one = { type: 'abuse.job', payload: { n: 1 }, region: 'abuse-careless' };
    const many = JSON.stringify({ events: range(5_001).map(() => one) });
    await expectAnswer(ctx, '5,001 events', {
      path: '/v1/events',
      body: many,
      token: t,
      status: 400,
      maxMs: 1_000,
      n,
    });
  },
};

/** Text that would be the database's own: the table prefix, driver codes, SQL. */
function leaks(body: string, prefix: string): boolean {
  return (
    body.includes(prefix) ||
    /\bER_[A-Z_]+\b|\bSQL\b|mysql|mariadb|root@|127\.0\.0\.1:3306|SELECT |INSERT |UPDATE /i.test(body)
  );
}

const bodyArb = fc.oneof(
  fc.jsonValue({ maxDepth: 5 }).map((v) => JSON.stringify(v) ?? 'null'),
  fc.string({ maxLength: 300 }),
  fc
    .record(
      {
        type: fc.oneof(fc.constantFrom('abuse.job', 'abuse.blob'), fc.string({ maxLength: 130 })),
        payload: fc.jsonValue({ maxDepth: 4 }),
        region: fc.oneof(fc.constant(REGION), fc.string({ maxLength: 80 })),
        serverId: fc.oneof(fc.constant(null), fc.string({ maxLength: 80 })),
        idempotencyKey: fc.oneof(fc.constant(null), fc.string({ maxLength: 300 })),
      },
      { requiredKeys: [] },
    )
    .map((e) => JSON.stringify({ event: e })),
  fc
    .record(
      {
        // Never the id of a real event: a careless transition of the good client's events would
        // fail the good client's acks, which is the store's compare-and-set working, not abuse.
        id: fc.oneof(
          fc.integer({ max: 0 }),
          fc.nat().map((x) => x + 2 ** 32),
          fc.constant(2 ** 53),
          fc.double(),
          fc.string(),
        ),
        to: fc.oneof(fc.constantFrom('placed', 'done', 'failed', 'cancelled', 'running'), fc.string()),
        version: fc.oneof(fc.integer(), fc.constant(2 ** 53)),
        from: fc.oneof(fc.string(), fc.array(fc.string(), { maxLength: 70 })),
        serverId: fc.string({ maxLength: 80 }),
        leaseOwner: fc.string({ maxLength: 300 }),
        result: fc.jsonValue({ maxDepth: 4 }),
      },
      { requiredKeys: [] },
    )
    .map((t) => JSON.stringify({ transition: t })),
);
const queryArb = fc
  .record(
    {
      status: fc.oneof(fc.constantFrom('pending,placed', 'done'), fc.string({ maxLength: 100 })),
      region: fc.string({ maxLength: 80 }),
      serverId: fc.string({ maxLength: 80 }),
      type: fc.string({ maxLength: 130 }),
      limit: fc.oneof(fc.integer(), fc.constant('1e309'), fc.string()),
      cursor: fc.oneof(fc.integer(), fc.constant('99999999999999999999'), fc.string({ maxLength: 40 })),
      waitMs: fc.oneof(fc.integer({ min: -10, max: 200 }), fc.string()),
    },
    { requiredKeys: [] },
  )
  .map((q) =>
    new URLSearchParams(Object.entries(q).map(([k, v]): [string, string] => [k, String(v)])).toString(),
  );

export const dbErrorText: Attack = {
  name: 'db-error-text',
  finding: '11',
  what: 'fast-check bodies, ids, cursors and query strings (careless token) that reach the store: never 5xx, never database text',
  target: 'harpoon',
  async run(ctx) {
    const runs = ctx.quick ? 250 : 1_500;
    const cases = fc.sample(
      fc.oneof(
        fc.tuple(fc.constant('POST /v1/events'), bodyArb),
        fc.tuple(fc.constant('POST /v1/transitions'), bodyArb),
        fc.tuple(fc.constantFrom('GET /v1/events', 'GET /v1/feed'), queryArb),
        fc.tuple(
          fc.constant('GET /v1/events/'),
          fc.oneof(
            fc.integer().map(String),
            fc.constant('99999999999999999999'),
            fc.string({ maxLength: 30 }).map(encodeURIComponent),
          ),
        ),
      ),
      { numRuns: runs, seed: ctx.seed },
    );
    const statuses = new Map<number, number>();
    let leaked = 0;
    await pool(cases, 8, async ([route, arg]) => {
      const [method, path] = route.split(' ') as [string, string];
      const r =
        method === 'POST'
          ? await http(ctx.harpoon.url, { method, path, token: ctx.carelessToken, body: arg })
          : await http(ctx.harpoon.url, {
              path: path.endsWith('/')
                ? `${path}${arg}`
                : `${path}?${arg.replace(/waitMs=[^&]*/, 'waitMs=0')}`,
              token: ctx.carelessToken,
            });
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      if (leaks(r.body, ctx.tablePrefix)) {
        leaked++;
        if (leaked <= 3) ctx.note(`leak? ${route} → ${r.status} ${r.body.slice(0, 300)}`);
      }
    });
    const text = [...statuses]
      .sort(([a], [b]) => a - b)
      .map(([k, v]) => `${k} ×${v}`)
      .join(', ');
    ctx.note(`${runs} generated requests (seed ${ctx.seed}): ${text}; ${leaked} answers with database text`);
    ctx.expect(
      ![...statuses.keys()].some((s) => s >= 500 || s === 0),
      'no generated request answered 5xx or failed',
    );
    ctx.expect(leaked === 0, 'no answer carries database text');
  },
};
