/**
 * Reads that used to hold Harpoon: long-polls past their waitMs (finding 5) and pages of large
 * events (finding 8).
 */
import { request } from 'node:http';
import { type Attack, pool, range } from '../attack.js';
import { http } from '../net.js';

/** A feed long-poll on its own connection: status and how long it took. */
function longPoll(
  url: string,
  token: string,
  cursor: number,
  waitMs: number,
): Promise<{ status: number; ms: number }> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const req = request(
      `${url}/v1/feed?cursor=${cursor}&region=abuse-nowhere&waitMs=${waitMs}`,
      { headers: { authorization: `Bearer ${token}` }, agent: false },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: Date.now() - t0 }));
      },
    );
    req.setTimeout(waitMs + 20_000, () => req.destroy());
    req.on('error', () => resolve({ status: 0, ms: Date.now() - t0 }));
    req.end();
  });
}

export const longPolls: Attack = {
  name: 'long-polls',
  finding: '5',
  what: 'over 1,000 feed long-polls at once (careless token), held open by the client past waitMs',
  target: 'harpoon',
  async run(ctx) {
    const n = ctx.quick ? 400 : 1_100;
    const waitMs = ctx.quick ? 2_000 : 5_000;
    const { head } = JSON.parse(
      (await http(ctx.harpoon.url, { path: '/v1/head', token: ctx.carelessToken })).body,
    ) as {
      head: number;
    };
    const selectsBefore = await ctx.selects();
    const t0 = Date.now();
    const results = await Promise.all(
      range(n).map(() => longPoll(ctx.harpoon.url, ctx.carelessToken, head, waitMs)),
    );
    const s = (Date.now() - t0) / 1_000;
    const selects = ((await ctx.selects()) - selectsBefore) / s;
    const ok = results.filter((r) => r.status === 200);
    const busy = results.filter((r) => r.status === 429).length;
    const other = results.length - ok.length - busy;
    const late = ok.filter((r) => r.ms > waitMs + 3_000).length;
    const maxMs = Math.max(...ok.map((r) => r.ms));
    ctx.note(
      `${n} long-polls of ${waitMs} ms: ${ok.length} answered 200 (slowest ${maxMs} ms), ${busy} 429, ${other} other; MariaDB ${selects.toFixed(0)} SELECT/s meanwhile (all clients)`,
    );
    ctx.expect(late === 0 && other === 0, 'every long-poll ended by its waitMs (+3 s) or was refused 429');
    ctx.expect(n <= 1_000 || busy > 0, 'long-polls over maxLongPolls answered 429');
  },
};

export const bigPages: Attack = {
  name: 'big-pages',
  finding: '8',
  what: 'pages of limit=1000 over 500 kB events, 4 readers at once (careless token)',
  target: 'harpoon',
  async run(ctx) {
    const n = ctx.quick ? 30 : 60;
    const data = 'y'.repeat(500_000);
    const region = `abuse-big-${Date.now()}`;
    await pool(range(n), 4, async () => {
      await ctx.careless.create({ type: 'abuse.blob', payload: { data }, region });
    });
    const rounds = ctx.quick ? 2 : 5;
    const pages: { status: number; bytes: number; ms: number }[] = [];
    await pool(range(4 * rounds), 4, async () => {
      let cursor: string | number | null = null;
      for (let guard = 0; guard < 20; guard++) {
        const r = await http(ctx.harpoon.url, {
          path: `/v1/events?region=${region}&limit=1000${cursor !== null ? `&cursor=${cursor}` : ''}`,
          token: ctx.carelessToken,
          timeoutMs: 60_000,
          keep: 16 << 20,
        });
        pages.push({ status: r.status, bytes: r.bytes, ms: r.ms });
        if (r.status !== 200) return;
        cursor = (JSON.parse(r.body) as { nextCursor: string | number | null }).nextCursor;
        if (cursor === null) return;
      }
    });
    const ok = pages.filter((p) => p.status === 200).length;
    const largest = Math.max(...pages.map((p) => p.bytes));
    ctx.note(
      `${n} events of 500 kB; ${pages.length} pages read by 4 readers: ${ok} answered 200, largest ${(largest / (1 << 20)).toFixed(1)} MiB, slowest ${Math.max(...pages.map((p) => p.ms))} ms`,
    );
    ctx.expect(ok === pages.length, 'every page answered 200');
    ctx.expect(largest <= 8.5 * (1 << 20), 'no page over maxResponseBytes (8 MiB)');
  },
};
