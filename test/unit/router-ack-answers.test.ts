/**
 * What the router tells agents about their acknowledgements, and what it reads to decide: one
 * answer for an unknown event and another server's (no store read per unknown id once its memory
 * can decide), never the store's own error text, and a queue of acknowledgements bounded in bytes
 * (issue 13, findings 11, 13 and 14).
 */
import {
  type EventRouterOptions,
  type RouterStore,
  StorePollInput,
  UnavailableError,
  ValidationError,
} from '@ctlplane/core';
import { describe, expect, it } from 'vitest';
import { cleanupAfterEach } from '../integration/fixtures/router-harness.js';
import { memoryStore, placeEvents, until } from '../integration/fixtures/router-kit.js';
import { RawInProc, startInProcRouter } from '../integration/fixtures/router-raw.js';
import { RecordingLogger } from '../integration/fixtures/security-kit.js';

const cleanups = cleanupAfterEach();

async function setup(options: Partial<EventRouterOptions> = {}, pollMs = 10) {
  const log = new RecordingLogger('router');
  return { log, ...(await startInProcRouter(cleanups, { logger: log, ...options }, pollMs)) };
}

type Result = { id: number; ok: boolean; code?: string; message?: string };
const results = (raw: RawInProc): Result[] => raw.of('acked').flatMap((f) => f.results as Result[]);

describe('EventRouter acknowledgement answers', () => {
  it('regression(13.14): answers an unknown event as another server’s, without a store read per id', async () => {
    const { store, transport, router } = await setup();
    const [foreign] = await placeEvents(store, 1, () => 'hv-other');
    await until(async () => router.stats().cursor === (await store.head()), 'the router caught up');
    const raw = await RawInProc.open(transport);
    await raw.hello('hv-1');
    const headsBefore = router.stats().dbQueries.head;
    const unknown = Array.from({ length: 50 }, (_, i) => 1_000_000 + i);
    raw.send({ type: 'ack', acks: [foreign!.id, ...unknown].map((id) => ({ id, status: 'running' })) });
    await until(() => results(raw).length === 51, 'every acknowledgement answered');
    const answers = new Set(
      results(raw).map(({ ok, code, message }) => JSON.stringify({ ok, code, message })),
    );
    expect([...answers]).toEqual([
      JSON.stringify({ ok: false, code: 'UNAUTHORIZED', message: 'event is not on this server' }),
    ]);
    expect(router.stats().dbQueries.get).toBe(0);
    expect(router.stats().dbQueries.head - headsBefore).toBeLessThanOrEqual(1); // one, shared
  });

  it('reads the store for an event it cannot know yet: an agent resumed from ahead of the router', async () => {
    // Polls once at start, then not for a minute: changes after that are ahead of this router.
    const { store, transport, router } = await setup({}, 60_000);
    const [mine] = await placeEvents(store, 1, () => 'hv-1');
    const head = await store.head();
    expect(router.stats().cursor).toBeLessThan(head);
    const raw = await RawInProc.open(transport);
    expect(await raw.hello('hv-1', head)).toMatchObject({ resumed: true });
    raw.send({ type: 'ack', acks: [{ id: mine!.id, status: 'running' }] });
    await until(() => results(raw).length === 1, 'the acknowledgement answered');
    expect(results(raw)[0]).toMatchObject({ id: mine!.id, ok: true });
    expect(router.stats().dbQueries.get).toBe(1);
  });

  it('tells an agent whose cursor is beyond the store’s head to resync (reason ahead)', async () => {
    const { store, transport } = await setup();
    await placeEvents(store, 3, () => 'hv-1');
    const raw = await RawInProc.open(transport);
    expect(await raw.hello('hv-1', (await store.head()) + 1_000)).toMatchObject({ resumed: false });
    await until(() => raw.of('resync').length === 1, 'a resync');
    expect(raw.of('resync')[0]).toMatchObject({ reason: 'ahead' });
    raw.send({ type: 'snapshot' });
    await until(() => raw.of('snapshot').some((f) => f.done === true), 'the snapshot');
    expect(raw.of('snapshot').flatMap((f) => f.events as unknown[])).toHaveLength(3);
  });

  it('regression(13.11): tells agents a code and a fixed message, never the store’s error text', async () => {
    const secret = "Access denied for user 'ctl'@'10.1.2.3' to database 'prod_events'";
    const real = memoryStore();
    let failing: 'batch' | 'outcome' = 'batch';
    const store: RouterStore = {
      readFeed: (c, f) => real.readFeed(c, f),
      head: () => real.head(),
      query: (q) => real.query(q),
      get: (id) => real.get(id),
      transitionMany: async (inputs) => {
        if (failing === 'batch') throw new UnavailableError(`transition: ${secret}`);
        return inputs.map(() => ({
          ok: false as const,
          error: new ValidationError(`rejected: ${secret}`, []),
        }));
      },
    };
    const { transport, log } = await setup({ store, input: new StorePollInput({ store, pollMs: 10 }) });
    const [a, b] = await placeEvents(real, 2, () => 'hv-1');
    const raw = await RawInProc.open(transport);
    await raw.hello('hv-1');
    await until(async () => (await real.get(b!.id))?.status === 'placed', 'placed');
    raw.send({ type: 'snapshot' });
    await until(() => raw.of('snapshot').some((f) => f.done === true), 'live');
    raw.send({ type: 'ack', acks: [{ id: a!.id, status: 'running' }] });
    await until(() => results(raw).length === 1, 'the first answer');
    failing = 'outcome';
    raw.send({ type: 'ack', acks: [{ id: b!.id, status: 'running' }] });
    await until(() => results(raw).length === 2, 'the second answer');
    expect(results(raw)).toEqual([
      {
        id: a!.id,
        status: 'running',
        ok: false,
        code: 'UNAVAILABLE',
        message: 'store unavailable; send again',
      },
      {
        id: b!.id,
        status: 'running',
        ok: false,
        code: 'VALIDATION',
        message: 'the store refused the values of this acknowledgement',
      },
    ]);
    expect(JSON.stringify(raw.frames)).not.toContain('10.1.2.3');
    expect(log.text()).toContain(secret);
  });

  it('regression(13.13): bounds queued acknowledgements in bytes, answering BUSY past maxPendingAckBytes', async () => {
    // A long flush delay keeps the first acknowledgement queued while the next ones arrive.
    const { store, transport, router } = await setup({ maxPendingAckBytes: 4_096, ackFlushMs: 10_000 });
    const events = await placeEvents(store, 3, () => 'hv-1');
    await until(async () => router.stats().cursor === (await store.head()), 'the router caught up');
    const raw = await RawInProc.open(transport);
    await raw.hello('hv-1');
    const blob = 'r'.repeat(3_000);
    for (const e of events) raw.send({ type: 'ack', acks: [{ id: e.id, status: 'done', result: { blob } }] });
    await until(() => results(raw).length === 2, 'two answers');
    expect(results(raw).map((r) => [r.id, r.code])).toEqual([
      [events[1]!.id, 'BUSY'],
      [events[2]!.id, 'BUSY'],
    ]);
    expect(router.stats().pendingAcks).toEqual({ count: 1, bytes: expect.any(Number) });
    expect(router.stats().pendingAcks.bytes).toBeLessThanOrEqual(4_096);
  });
});
