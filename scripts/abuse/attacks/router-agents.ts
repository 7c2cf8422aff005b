/**
 * A careless agent with a valid token (findings 4, 14, the `ahead` cursor mismatch) and a careless
 * API client filling the router's region with large events (finding 13).
 */
import type { Socket } from 'node:net';
import { sleep } from '@ctlplane/core';
import fc from 'fast-check';
import WebSocket from 'ws';
import { type Attack, pool, range } from '../attack.js';
import { closedWithin, helloAgent } from '../net.js';
import { CARELESS_SERVER, GOOD_SERVER, REGION } from '../types.js';

const socketOf = (ws: WebSocket): Socket => (ws as unknown as { _socket: Socket })._socket;

export const resyncFlood: Attack = {
  name: 'resync-flood',
  finding: '4',
  what: 'an agent told to resync never asks for its snapshot, stops reading and floods heartbeats',
  target: 'router',
  async run(ctx) {
    // The router closes it once it passes maxFramesPerSecond (1,000 a second, a second's burst),
    // before parsing more; had it kept to the rate, once 4 MiB of pongs waited unsent. It reads at
    // most 256 more frames, then nothing, and drops it after closeTimeoutMs (5 s): a peer that does
    // not read never sees the close frame, so it sees 1006.
    const limitMs = 15_000;
    const rounds = ctx.quick ? 1 : 3;
    for (const round of range(rounds)) {
      const id = `${CARELESS_SERVER}-flood-${round}`;
      const probe = await helloAgent(ctx.router.url, id, ctx.agentToken(id));
      if (!probe) {
        ctx.expect(false, 'the careless agent was welcomed');
        return;
      }
      socketOf(probe.ws).pause();
      const frame = JSON.stringify({ type: 'heartbeat', at: 1, metrics: { cpu: 1 } });
      const t0 = Date.now();
      let sent = 0;
      let gone = false;
      void probe.closed.then(() => {
        gone = true;
      });
      socketOf(probe.ws).once('close', () => {
        gone = true;
      });
      while (!gone && Date.now() - t0 < limitMs && probe.ws.readyState === WebSocket.OPEN) {
        if (probe.ws.bufferedAmount > 1 << 20) {
          await sleep(2);
          continue;
        }
        for (let i = 0; i < 500; i++) probe.ws.send(frame);
        sent += 500;
        await new Promise((r) => setImmediate(r));
      }
      const floodMs = Date.now() - t0;
      socketOf(probe.ws).resume();
      const closed = await closedWithin(probe, 10_000);
      ctx.note(
        `round ${round + 1}: ${sent.toLocaleString('en-US')} heartbeats in ${(floodMs / 1_000).toFixed(1)} s, then ${closed ? `closed ${closed.code} ${closed.reason}` : 'still open'}`,
      );
      ctx.expect(
        floodMs < limitMs && closed !== null && [4005, 4012, 1006].includes(closed.code),
        `round ${round + 1}: the flooding agent was cut off (rate-limited or slow-consumer) within ${limitMs / 1_000} s`,
      );
    }
  },
};

type Acked = { type: 'acked'; results: { id: number; ok: boolean; code?: string; message?: string }[] };

export const ackProbing: Attack = {
  name: 'ack-probing',
  finding: '14',
  what: "acks of random ids and of the good agent's events; a hello with a cursor beyond the head",
  target: 'router',
  async run(ctx) {
    const frames = ctx.quick ? 5 : 30;
    const own = await ctx.careless.query({ region: REGION, serverId: GOOD_SERVER, limit: 100 });
    const ids = fc.sample(fc.integer({ min: 1, max: 2 ** 31 - 1 }), {
      numRuns: frames * 1_000,
      seed: ctx.seed,
    });
    for (const [i, e] of own.events.entries()) ids[i * 7] = e.id;
    const id = `${CARELESS_SERVER}-probe`;
    const probe = await helloAgent(ctx.router.url, id, ctx.agentToken(id));
    if (!probe) {
      ctx.expect(false, 'the careless agent was welcomed');
      return;
    }
    for (const f of range(frames)) {
      const acks = ids
        .slice(f * 1_000, (f + 1) * 1_000)
        .map((x) => ({ id: x, status: 'done', result: { x } }));
      probe.ws.send(JSON.stringify({ type: 'ack', acks }));
    }
    const deadline = Date.now() + 15_000;
    const answered = () =>
      probe.frames.flatMap((fr) => ((fr as Acked).type === 'acked' ? (fr as Acked).results : []));
    while (
      answered().length < frames * 1_000 &&
      Date.now() < deadline &&
      probe.ws.readyState === WebSocket.OPEN
    )
      await sleep(50);
    const results = answered();
    const codes = new Map<string, number>();
    for (const r of results)
      codes.set(
        `${r.ok ? 'ok' : r.code} "${r.message}"`,
        (codes.get(`${r.ok ? 'ok' : r.code} "${r.message}"`) ?? 0) + 1,
      );
    const text = [...codes].map(([k, n]) => `${k} ×${n}`).join(', ');
    ctx.note(`${frames * 1_000} acks (${own.events.length} of the good agent's events among them): ${text}`);
    ctx.expect(results.length === frames * 1_000, `every ack answered (${results.length})`);
    const unauthorized = [...codes.keys()].filter((k) => k.startsWith('UNAUTHORIZED'));
    const other = [...codes.keys()].filter((k) => !k.startsWith('UNAUTHORIZED') && !k.startsWith('BUSY'));
    ctx.expect(
      unauthorized.length === 1 && other.length === 0,
      "acks of others' and unknown ids get one answer, UNAUTHORIZED (or BUSY)",
    );
    probe.ws.close();

    const ahead = await helloAgent(ctx.router.url, id, ctx.agentToken(id), 1e12);
    const welcome = ahead?.frames.find((fr) => (fr as { type?: string }).type === 'welcome') as
      | { resumed: boolean }
      | undefined;
    await sleep(500);
    const resync = ahead?.frames.find((fr) => (fr as { type?: string }).type === 'resync') as
      | { reason: string }
      | undefined;
    ctx.note(`hello with cursor 10^12: resumed ${welcome?.resumed}, resync ${resync?.reason}`);
    ctx.expect(
      welcome?.resumed === false && resync?.reason === 'ahead',
      'a cursor beyond the head is not resumed',
    );
    ahead?.ws.close();
  },
};

export const routerBytes: Attack = {
  name: 'router-bytes',
  finding: '13',
  what: "a careless API client places 500 kB events in the router's region on servers with no agent, then cancels them",
  target: 'router',
  async run(ctx) {
    const n = ctx.quick ? 120 : 480;
    const data = 'x'.repeat(500_000);
    const made: { id: number; version: number }[] = [];
    let refused = 0;
    const t0 = Date.now();
    await pool(range(n), 4, async (i) => {
      try {
        const e = await ctx.careless.create({
          type: 'abuse.blob',
          payload: { data },
          region: REGION,
          serverId: `flood-hv-${i % 50}`,
        });
        made.push({ id: e.id, version: e.version });
      } catch {
        refused++;
      }
    });
    ctx.note(
      `${made.length} events of 500 kB (${(made.length * 0.5) | 0} MB) placed in ${((Date.now() - t0) / 1_000).toFixed(1)} s, ${refused} refused`,
    );
    const t1 = Date.now();
    await pool(made, 4, async (e) => {
      await ctx.careless
        .transition({ id: e.id, version: e.version, to: 'cancelled', error: 'abuse' })
        .catch(() => {});
    });
    ctx.note(`cancelled again in ${((Date.now() - t1) / 1_000).toFixed(1)} s`);
    ctx.expect(refused === 0, 'every create of a legal event was accepted');
  },
};
