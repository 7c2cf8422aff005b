/**
 * The router's agent protocol under fuzzing, over the real WebSocket transport on 127.0.0.1:
 * random, malformed, mistyped, binary and oversized frames, before and after the hello. Every
 * hostile connection is refused or closed with a named reason (or served, when it happened to
 * be valid), no other server's event moves, no token is logged, and a well-behaved agent on the
 * same router keeps getting its events.
 */
import { request } from 'node:http';
import { MemoryEventStoreDriver } from '@ctlplane/adapters/memory';
import { WsConnector, WsTransportServer } from '@ctlplane/adapters/ws';
import { Agent, AgentKeyring, EventRouter, EventStore, StorePollInput } from '@ctlplane/core';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { create, type TestSchemas, testTypes } from '../contract/event-store.fixtures.js';
import { anyFrame, HOSTILE_CLOSE_CODES, type TokenSet } from './fixtures/security-frames.js';
import { fuzzParams, RecordingLogger, Tally, until } from './fixtures/security-kit.js';
import { RawAgent } from './fixtures/security-ws.js';

const PRE_HELLO_RUNS = 300;
const POST_HELLO_RUNS = 300;
const SECRET = 'router-fuzz-signing-key-0123456789abcdef';

describe('EventRouter agent protocol under fuzzing (WebSocket)', () => {
  const log = new RecordingLogger('router');
  const now = Date.now();
  const keyring = new AgentKeyring({ keys: [{ kid: 'k1', secret: SECRET }] });
  const forger = new AgentKeyring({ keys: [{ kid: 'k1', secret: 'an-attacker-guess-0123456789abcdef' }] });
  const past = new AgentKeyring({ keys: [{ kid: 'k1', secret: SECRET }], now: () => now - 3_600_000 });
  const store = new EventStore({ driver: new MemoryEventStoreDriver(), types: testTypes });
  const router = new EventRouter({
    store,
    region: 'r1',
    auth: keyring,
    input: new StorePollInput({ store, pollMs: 20 }),
    logger: log,
    helloTimeoutMs: 2_000,
  });
  const server = new WsTransportServer();
  const done = new Set<number>();
  let good: Agent<TestSchemas> | null = null;
  let url = '';
  let victimIds: number[] = [];
  const issued = new Map<string, TokenSet>();
  const tokens = (serverId: string): TokenSet => {
    const cached = issued.get(serverId);
    if (cached) return cached;
    const set = {
      valid: keyring.sign({ serverId, region: 'r1' }),
      bad: [
        forger.sign({ serverId, region: 'r1' }),
        past.sign({ serverId, region: 'r1', ttlMs: 60_000 }),
        keyring.sign({ serverId: 'victim', region: 'r1' }),
        keyring.sign({ serverId, region: 'r2' }),
        `${keyring.sign({ serverId, region: 'r1' })}x`,
        'ctl1.nokey.e30.AAAA',
      ],
    };
    issued.set(serverId, set);
    return set;
  };

  beforeAll(async () => {
    await router.listen(server);
    url = server.url;
    victimIds = (
      await store.append(
        Array.from({ length: 10 }, (_, i) => create(i, { serverId: 'victim', region: 'r1' })),
      )
    ).map((e) => e.id);
  });
  afterAll(async () => {
    await good?.stop();
    await router.close();
    await store.close();
  });

  /** Frames in, then: closed with a named reason, or welcomed. Never left hanging. */
  it(`refuses or closes ${PRE_HELLO_RUNS} hostile connections with a named reason`, async () => {
    const tally = new Tally('router agent protocol, before hello (ws)');
    const t = tokens('fz-a');
    await fc.assert(
      fc.asyncProperty(
        fc.array(anyFrame('fz-a', t, victimIds), { minLength: 1, maxLength: 3 }),
        async (frames) => {
          const raw = new RawAgent(url);
          await raw.opened();
          for (const f of frames) raw.send(f);
          const ended = await raw.waitFor(() => raw.closed !== null || raw.welcomed, 3_000);
          raw.terminate();
          expect(ended, `no answer to ${JSON.stringify(frames).slice(0, 300)}`).toBe(true);
          if (raw.closed) {
            expect(HOSTILE_CLOSE_CODES.has(raw.closed.code), JSON.stringify(raw.closed)).toBe(true);
            expect(raw.frames.filter((f) => f.type === 'events' || f.type === 'snapshot')).toEqual([]);
          }
          tally.add(raw.closed && !raw.welcomed ? `close ${raw.closed.code}` : 'welcomed');
        },
      ),
      fuzzParams(PRE_HELLO_RUNS),
    );
    tally.print();
    for (const code of [4001, 4002, 4003, 4004])
      expect(tally.count(`close ${code}`), `${code}`).toBeGreaterThan(0);
    expect(tally.count('welcomed')).toBeGreaterThan(0);
  });

  it(`keeps ${POST_HELLO_RUNS} authenticated hostile agents to their own server`, async () => {
    const tally = new Tally('router agent protocol, after hello (ws)');
    const answers = new Tally("router answers to acks of other servers' events");
    const t = tokens('fz-b');
    await fc.assert(
      fc.asyncProperty(
        fc.array(anyFrame('fz-b', t, victimIds), { minLength: 1, maxLength: 4 }),
        async (frames) => {
          const raw = new RawAgent(url);
          await raw.opened();
          raw.hello(t.valid, 'fz-b');
          expect(await raw.waitFor(() => raw.welcomed)).toBe(true);
          for (const f of frames) raw.send(f);
          // A barrier: a valid heartbeat is answered with a pong unless the connection was closed.
          raw.send({ type: 'heartbeat', at: 1, metrics: {} });
          const ended = await raw.waitFor(() => raw.closed !== null || raw.frames.some((f) => f.at === 1));
          raw.terminate();
          expect(ended, `no answer to ${JSON.stringify(frames).slice(0, 300)}`).toBe(true);
          if (raw.closed)
            expect(HOSTILE_CLOSE_CODES.has(raw.closed.code), JSON.stringify(raw.closed)).toBe(true);
          // No acknowledgement of another server's event is ever accepted.
          for (const f of raw.frames.filter((x) => x.type === 'acked'))
            for (const r of f.results as Array<{ ok: boolean; code?: string }>) {
              expect(r.ok).toBe(false);
              answers.add(`refused ${r.code}`);
            }
          tally.add(raw.closed ? `close ${raw.closed.code}` : 'served');
        },
      ),
      fuzzParams(POST_HELLO_RUNS),
    );
    tally.print();
    answers.print();
    expect(tally.count('close 4004')).toBeGreaterThan(0);
    expect(tally.count('served')).toBeGreaterThan(0);
    expect(answers.count('refused UNAUTHORIZED')).toBeGreaterThan(0);
  });

  it('closes a frame over 1 MiB and a binary frame of invalid UTF-8 with 4004, and a flood with 4012 after a second of it', async () => {
    const big = new RawAgent(url);
    await big.opened();
    big.send(`{"type":"hello","token":"${'x'.repeat(1024 * 1024)}"}`);
    expect(await big.waitFor(() => big.closed !== null)).toBe(true);
    expect(big.closed?.code).toBe(4004); // as documented; ws alone would close with 1009
    const binary = new RawAgent(url);
    await binary.opened();
    binary.send(Uint8Array.from([0xff, 0xfe, 0x7b]));
    expect(await binary.waitFor(() => binary.closed !== null)).toBe(true);
    expect(binary.closed?.code).toBe(4004);
    const flood = new RawAgent(url);
    await flood.opened();
    flood.hello(tokens('fz-c').valid, 'fz-c');
    expect(await flood.waitFor(() => flood.welcomed)).toBe(true);
    // Twice maxFramesPerSecond at once: the first second's worth is answered, then the router closes
    // it with rate-limited (4012). It reads at most 256 frames after its close frame and cuts the
    // peer off at closeTimeoutMs (5 s), so the close completes only then.
    for (let i = 0; i < 2_000; i++) flood.send({ type: 'heartbeat', at: i, metrics: { load: i } });
    expect(await flood.waitFor(() => flood.closed !== null, 10_000)).toBe(true);
    expect(flood.closed?.code).toBe(4012);
    const pongs = flood.frames.filter((f) => f.type === 'pong').length;
    expect(pongs).toBeGreaterThan(900);
    expect(pongs).toBeLessThanOrEqual(1_100); // a second's burst, plus what refills while they arrive
  });

  it('survives an upgrade request with 2,000 headers (ws CVE-2024-37890 regression)', async () => {
    const headers: Record<string, string> = {};
    for (let i = 0; i < 2_000; i++) headers[`x-h${i}`] = 'x';
    const { hostname, port } = new URL(url);
    await new Promise<void>((resolve) => {
      const req = request({
        host: hostname,
        port,
        path: '/agents',
        headers: {
          ...headers,
          connection: 'Upgrade',
          upgrade: 'websocket',
          'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
          'sec-websocket-version': '13',
        },
      });
      req.on('error', () => resolve());
      req.on('response', (res) => {
        res.resume();
        resolve();
      });
      req.on('upgrade', (_res, socket) => {
        socket.destroy();
        resolve();
      });
      req.end();
    });
    const raw = new RawAgent(url);
    await raw.opened();
    raw.hello(tokens('fz-d').valid, 'fz-d');
    expect(await raw.waitFor(() => raw.welcomed)).toBe(true);
    raw.terminate();
  });

  it('afterwards: no other server’s event moved, nothing secret logged, a good agent is served', async () => {
    for (const id of victimIds) expect(await store.get(id)).toMatchObject({ status: 'placed', version: 1 });
    good = new Agent<TestSchemas>({
      serverId: 'good',
      token: keyring.sign({ serverId: 'good', region: 'r1' }),
      urls: [url],
      connector: new WsConnector(),
      handlers: { 'droplet.create': (e) => void done.add(e.id) },
      backoff: { initialMs: 10, maxMs: 100 },
    });
    await good.start();
    const mine = await store.append(
      Array.from({ length: 20 }, (_, i) => create(i, { serverId: 'good', region: 'r1' })),
    );
    await until(() => mine.every((e) => done.has(e.id)), 'the good agent ran its events');
    await until(() => router.stats().agentsConnected === 1, 'only the good agent is connected');
    const text = log.text();
    expect(text).not.toContain(SECRET);
    for (const set of issued.values())
      for (const tok of [set.valid, ...set.bad]) expect(text).not.toContain(tok);
    const stats = router.stats();
    process.stdout.write(`[fuzz] router stats after fuzzing: ${JSON.stringify(stats.disconnects)}\n`);
  });
});
