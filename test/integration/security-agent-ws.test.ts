/**
 * The other side of the agent protocol under fuzzing: a hostile (or broken) router that sends an
 * Agent malformed frames over the real WebSocket transport. The agent closes the connection with
 * protocol-error at the first bad frame, runs only the well-formed events that came before it,
 * never crashes, and reconnects.
 */
import type { Socket } from 'node:net';
import { WsConnector } from '@ctlplane/adapters/ws';
import { Agent, CLOSE_CODES } from '@ctlplane/core';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type WebSocket, WebSocketServer } from 'ws';
import { type TestSchemas, testTypes } from '../contract/event-store.fixtures.js';
import { garbageBytes, hostileJson } from './fixtures/security-arbitraries.js';
import { brokenWireEvent, wireEvent } from './fixtures/security-bus.js';
import { fuzzParams, Tally, until } from './fixtures/security-kit.js';

const RUNS = 150;
const END = '<end of script>'; // not JSON: the agent must close at it at the latest

type Step = { kind: 'event'; id: number } | { kind: 'ok'; frame: unknown } | { kind: 'bad'; frame: unknown };
type GenStep = { kind: 'event' } | Exclude<Step, { kind: 'event' }>;

describe('Agent under a hostile router (WebSocket)', () => {
  let wss: WebSocketServer;
  const scripts: Step[][] = [];
  const closes: Array<{ code: number; reason: string }> = [];
  const ran = new Set<number>();
  let nextId = 1_000_000; // broken events carry ids below 1,000: never run
  let agent: Agent<TestSchemas>;

  const frameOf = (s: Step): unknown => {
    if (s.kind !== 'event') return s.frame;
    const e = { ...wireEvent(s.id, s.id, 'r1', 'hv-1'), type: 'blob', payload: { data: 'x' } };
    return JSON.stringify({ type: 'events', events: [e], cursor: s.id });
  };
  const send = (ws: WebSocket, frame: unknown) =>
    ws.send(frame instanceof Uint8Array ? frame : typeof frame === 'string' ? frame : JSON.stringify(frame), {
      binary: frame instanceof Uint8Array,
    });

  beforeAll(async () => {
    wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((r) => wss.once('listening', () => r()));
    wss.on('connection', (ws) => {
      ws.on('close', (code, reason) => closes.push({ code, reason: reason.toString() }));
      ws.once('message', () => {
        const script = scripts.shift() ?? [];
        send(ws, {
          type: 'welcome',
          protocol: 1,
          routerId: 'fake',
          region: 'r1',
          serverId: 'hv-1',
          cursor: 0,
          resumed: true,
          heartbeatMs: 60_000,
        });
        // One write for the whole script, as a router flushing a batch would send it.
        const socket = (ws as unknown as { _socket: Socket })._socket;
        socket.cork();
        for (const s of script) send(ws, frameOf(s));
        send(ws, END);
        process.nextTick(() => socket.uncork());
      });
    });
    const { port } = wss.address() as { port: number };
    agent = new Agent<TestSchemas>({
      serverId: 'hv-1',
      token: 'any-token',
      urls: [`ws://127.0.0.1:${port}/agents`],
      connector: new WsConnector(),
      types: testTypes,
      handlers: { blob: (e) => void ran.add(e.id) },
      backoff: { initialMs: 1, maxMs: 5 },
      ackRunning: false,
    });
  });
  afterAll(async () => {
    await agent?.stop();
    for (const c of wss?.clients ?? []) c.terminate();
    await new Promise<void>((r) => (wss ? wss.close(() => r()) : r()));
  });

  it(`closes with protocol-error at the first bad frame of ${RUNS} scripts, having run what came before and nothing malformed`, async () => {
    const tally = new Tally('agent under a hostile router (ws)');
    const step: fc.Arbitrary<GenStep> = fc.oneof(
      { weight: 3, arbitrary: fc.constant<GenStep>({ kind: 'event' }) },
      {
        weight: 1,
        arbitrary: fc.constantFrom<GenStep>(
          { kind: 'ok', frame: { type: 'pong', at: 1, cursor: null } },
          { kind: 'ok', frame: { type: 'acked', results: [] } },
        ),
      },
      {
        weight: 2,
        arbitrary: fc
          .oneof(
            brokenWireEvent('r1', true).map((e) => ({ type: 'events', events: [e], cursor: 1 })),
            hostileJson,
            garbageBytes,
            fc.constantFrom(
              { type: 'welcome' },
              { type: 'resync', reason: 'bogus', oldest: 0 },
              { type: 'events', events: 'x', cursor: 1 },
              'not json',
            ),
          )
          .map((frame): GenStep => ({ kind: 'bad', frame })),
      },
    );
    let started = false;
    const afterBad: number[] = [];
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 4 }), async (generated) => {
        // Fresh ids on every run (and every shrink): an id seen before would be a redelivery.
        const script = generated.map((s): Step => (s.kind === 'event' ? { kind: 'event', id: nextId++ } : s));
        const before = closes.length;
        scripts.push(script);
        if (!started) {
          started = true;
          void agent.start().catch(() => {});
        }
        await until(() => closes.length > before, 'the agent closed the connection');
        const close = closes[before]!;
        expect(close.code, JSON.stringify(close)).toBe(CLOSE_CODES['protocol-error']);
        const firstBad = script.findIndex((s) => s.kind === 'bad');
        const expected = script
          .slice(0, firstBad === -1 ? undefined : firstBad)
          .flatMap((s) => (s.kind === 'event' ? [s.id] : []));
        await until(() => expected.every((id) => ran.has(id)), 'the events before the bad frame ran');
        if (firstBad !== -1)
          afterBad.push(...script.slice(firstBad).flatMap((s) => (s.kind === 'event' ? [s.id] : [])));
        // Nothing malformed ever reaches a handler, and nothing sent after the bad frame does.
        expect([...ran].filter((id) => id < 1_000_000)).toEqual([]);
        tally.add(firstBad === -1 ? 'closed at the end marker' : 'closed at a bad frame');
      }),
      fuzzParams(RUNS),
    );
    // Checked once all runs are over: events before a later connection's barrier ran in order.
    for (const id of afterBad) expect(ran.has(id), `event ${id} sent after a bad frame`).toBe(false);
    tally.print();
    expect(tally.count('closed at a bad frame')).toBeGreaterThan(0);
    expect(ran.size).toBeGreaterThan(0);
  });
});
