/**
 * The router's port as plain HTTP (finding 9) and slowloris on both ports (the header-timeout doc
 * mismatches).
 */
import { connect } from 'node:net';
import { sleep } from '@ctlplane/core';
import { type Attack, type AttackContext, pool, range } from '../attack.js';
import { raw } from '../net.js';

export const plainHttp: Attack = {
  name: 'plain-http',
  finding: '9',
  what: "plain HTTP requests to the router's WebSocket port (they used to be held forever)",
  target: 'router',
  async run(ctx) {
    const n = ctx.quick ? 300 : 1_000;
    const statuses = new Map<string, number>();
    let held = 0;
    let maxMs = 0;
    await pool(range(n), 100, async (i) => {
      const r = await raw(
        ctx.router.host,
        ctx.router.port,
        `${i % 2 ? 'POST' : 'GET'} /${i % 3 ? 'agents' : ''} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n`,
        3_000,
      );
      statuses.set(r.status || 'none', (statuses.get(r.status || 'none') ?? 0) + 1);
      if (!r.closed) held++;
      maxMs = Math.max(maxMs, r.ms);
    });
    const text = [...statuses].map(([k, v]) => `${k} ×${v}`).join(', ');
    ctx.note(`${n} requests: ${text}; ${held} still open after 3 s; slowest closed after ${maxMs} ms`);
    ctx.expect(
      held === 0 && (statuses.get('HTTP/1.1 426 Upgrade Required') ?? 0) === n,
      'every request answered 426 and closed',
    );
  },
};

/** Hold `n` connections sending one header byte every 2 s; how long each was held (ms; -1 if still open). */
async function slowloris(host: string, port: number, n: number, limitMs: number): Promise<number[]> {
  return Promise.all(
    range(n).map(() => {
      const parts = [
        'GET /v1/head HTTP/1.1\r\nHost: x\r\n',
        ...range(Math.ceil(limitMs / 2_000)).map(() => 'X'),
      ];
      return new Promise<number>((resolve) => {
        const t0 = Date.now();
        const s = connect({ host, port });
        let i = 0;
        const timer = setInterval(() => {
          if (i < parts.length) s.write(parts[i++]!);
        }, 2_000);
        s.on('connect', () => s.write(parts[i++]!));
        s.on('error', () => {});
        s.on('close', () => {
          clearInterval(timer);
          clearTimeout(stop);
          resolve(Date.now() - t0);
        });
        const stop = setTimeout(() => {
          clearInterval(timer);
          s.destroy();
          resolve(-1);
        }, limitMs);
        s.resume();
      });
    }),
  );
}

async function both(ctx: AttackContext): Promise<void> {
  const n = ctx.quick ? 100 : 500;
  // Documented: the router's port 10 s, Harpoon's 20 s; allow 5 s of scheduling.
  const [router, harpoon] = await Promise.all([
    slowloris(ctx.router.host, ctx.router.port, n, 15_000),
    slowloris(ctx.harpoon.host, ctx.harpoon.port, n, 25_000),
  ]);
  for (const [name, held, bound] of [
    ['router', router, 10],
    ['harpoon', harpoon, 20],
  ] as const) {
    const open = held.filter((ms) => ms < 0).length;
    const closed = held.filter((ms) => ms >= 0);
    ctx.note(
      `${name}: ${n} connections, closed after ${(Math.min(...closed) / 1_000).toFixed(1)}–${(Math.max(...closed) / 1_000).toFixed(1)} s, ${open} still open`,
    );
    ctx.expect(
      open === 0,
      `${name}: every slowloris connection closed by its ${bound} s header timeout (+5 s)`,
    );
  }
  await sleep(0);
}

export const slowlorisBoth: Attack = {
  name: 'slowloris',
  finding: 'doc',
  what: 'connections trickling request headers a byte every 2 s to both ports',
  target: 'both',
  run: both,
};
