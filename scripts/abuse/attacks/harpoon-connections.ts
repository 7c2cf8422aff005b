/**
 * Harpoon's connection handling: pipelined reads never read (finding 3), refused bodies that used
 * to be drained (finding 10), absolute-form and odd request targets (finding 12) with fast-check
 * neighbours, and the error-log flood they could cause.
 */
import { connect } from 'node:net';
import { sleep } from '@ctlplane/core';
import fc from 'fast-check';
import { type Attack, pool, range } from '../attack.js';
import { raw } from '../net.js';

export const pipelinedGets: Attack = {
  name: 'pipelined-gets',
  finding: '3',
  what: 'sockets writing 200 pipelined 1,000-event reads (careless token) and 200 unauthenticated ones, never reading',
  target: 'harpoon',
  async run(ctx) {
    const sockets = ctx.quick ? 10 : 40;
    const get = (token: string | null) =>
      `GET /v1/events?limit=1000 HTTP/1.1\r\nHost: x\r\n${token ? `Authorization: Bearer ${token}\r\n` : ''}\r\n`;
    let closed = 0;
    const holdMs = ctx.quick ? 3_000 : 6_000;
    await Promise.all(
      range(sockets).map(
        (i) =>
          new Promise<void>((resolve) => {
            const s = connect({ host: ctx.harpoon.host, port: ctx.harpoon.port });
            s.on('connect', () => s.write(get(i % 4 === 3 ? null : ctx.carelessToken).repeat(200)));
            s.pause(); // never read
            s.on('error', () => {});
            s.on('close', () => {
              closed++;
              resolve();
            });
            setTimeout(() => {
              s.destroy();
              resolve();
            }, holdMs);
          }),
      ),
    );
    ctx.note(
      `${sockets} sockets × 200 pipelined reads: ${closed} closed by Harpoon within ${holdMs / 1_000} s, the others destroyed by the attacker`,
    );
    // Node stops reading a socket whose answers back up, so a connection may never show its 18th
    // request; it then holds one answer until idleTimeoutMs. What counts is what Harpoon holds
    // meanwhile: its RSS, in the verdict.
  },
};

export const refusedBodies: Attack = {
  name: 'refused-bodies',
  finding: '10',
  what: '100 MiB bodies announced to refused requests (no token, unknown route), streamed as fast as possible',
  target: 'harpoon',
  async run(ctx) {
    const n = ctx.quick ? 8 : 16;
    const chunk = Buffer.alloc(1 << 20, 0x20);
    const heads = [
      'POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 104857600\r\n\r\n',
      `POST /v1/nowhere HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ctx.carelessToken}\r\nContent-Length: 104857600\r\n\r\n`,
      'PUT /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 104857600\r\n\r\n',
    ];
    const accepted: number[] = [];
    const statuses = new Map<string, number>();
    await Promise.all(
      range(n).map(
        (i) =>
          new Promise<void>((resolve) => {
            const s = connect({ host: ctx.harpoon.host, port: ctx.harpoon.port });
            let written = 0;
            let text = '';
            let done = false;
            const finish = (): void => {
              if (done) return;
              done = true;
              clearTimeout(timer);
              s.destroy();
              accepted.push(written);
              const st = /^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 'none';
              statuses.set(st, (statuses.get(st) ?? 0) + 1);
              resolve();
            };
            const timer = setTimeout(finish, 5_000);
            const pump = (): void => {
              while (!done && written < 100 * (1 << 20)) {
                written += chunk.length;
                if (!s.write(chunk)) return void s.once('drain', pump);
              }
            };
            s.on('connect', () => {
              s.write(heads[i % heads.length]!);
              pump();
            });
            s.on('data', (d: Buffer) => {
              if (text.length < 200) text += d.toString('latin1');
            });
            s.on('error', finish);
            s.on('close', finish);
          }),
      ),
    );
    const mib = (b: number): string => (b / (1 << 20)).toFixed(0);
    const text = [...statuses].map(([k, v]) => `${k} ×${v}`).join(', ');
    ctx.note(
      `${n} connections: answers ${text}; written before the close ${mib(Math.min(...accepted))}–${mib(Math.max(...accepted))} MiB each (socket buffers included)`,
    );
    ctx.expect(
      Math.max(...accepted) < 32 * (1 << 20),
      'no refused body was drained (under 32 MiB written on any connection)',
    );
    // A server that closes a socket with unread bytes resets it, and the reset can overtake the
    // answer: 'none' is such a connection, refused and closed all the same.
  },
};

/** Request targets: absolute forms, authority forms, encodings, control bytes. */
const targets = fc.oneof(
  fc.constantFrom(
    'http://[zz/v1/head',
    'http://x/v1/head',
    '*',
    '//v1/head',
    'x:1',
    '/v1/events/%zz',
    '/v1/../v1/head',
    '/v1/events/99999999999999999999',
  ),
  fc.string({ minLength: 1, maxLength: 200 }).map((s) => s.replace(/[\s]/g, '%20')),
  fc
    .tuple(fc.constantFrom('http://', 'https://', '//', '/'), fc.string({ maxLength: 60 }))
    .map(([a, b]) => `${a}${b.replace(/\s/g, '')}`),
);

export const absoluteForm: Attack = {
  name: 'absolute-form',
  finding: '12',
  what: 'GET http://[zz/v1/head and fast-check request targets, without and with a token; clients hanging up',
  target: 'harpoon',
  async run(ctx) {
    const linesBefore = ctx.harpoonLines();
    const runs = ctx.quick ? 200 : 1_000;
    const samples = fc.sample(fc.tuple(targets, fc.boolean()), { numRuns: runs, seed: ctx.seed });
    const statuses = new Map<string, number>();
    await pool(samples, 20, async ([target, auth]) => {
      const r = await raw(
        ctx.harpoon.host,
        ctx.harpoon.port,
        `GET ${target} HTTP/1.1\r\nHost: x\r\n${auth ? `Authorization: Bearer ${ctx.carelessToken}\r\n` : ''}Connection: close\r\n\r\n`,
        5_000,
        4_096,
      );
      const st = /^HTTP\/1\.1 (\d{3})/.exec(r.status)?.[1] ?? (r.closed ? 'closed' : 'none');
      statuses.set(st, (statuses.get(st) ?? 0) + 1);
    });
    // Clients that hang up before their answer (a long-poll, then gone).
    await pool(range(ctx.quick ? 100 : 400), 50, async () => {
      await raw(
        ctx.harpoon.host,
        ctx.harpoon.port,
        `GET /v1/feed?cursor=0&region=nowhere&waitMs=5000 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ctx.carelessToken}\r\n\r\n`,
        50,
      );
    });
    await sleep(500);
    const lines = ctx.harpoonLines() - linesBefore;
    const text = [...statuses].map(([k, v]) => `${k} ×${v}`).join(', ');
    ctx.note(`${runs} targets (seed ${ctx.seed}): ${text}; Harpoon logged ${lines} lines`);
    ctx.expect(
      ![...statuses.keys()].some((k) => k.startsWith('5') || k === 'none'),
      'no target answered 5xx or left unanswered',
    );
    ctx.expect(lines <= 45, `Harpoon's error log stays bounded (${lines} lines; 20 per 10 s plus counts)`);
  },
};
