/**
 * What the router holds is bounded in bytes as well as in events, and its frames to agents are
 * cut by bytes (issue 13, finding 13 and the frame-size mismatches).
 */
import type { EventRouterOptions } from '@ctlplane/core';
import { describe, expect, it } from 'vitest';
import { FRAME_TARGET_BYTES } from '../../packages/core/src/router/agent-session.js';
import { cleanupAfterEach } from '../integration/fixtures/router-harness.js';
import { countDone, Ledger, placeEvents, testAgent, until } from '../integration/fixtures/router-kit.js';
import { RawInProc, startInProcRouter } from '../integration/fixtures/router-raw.js';

const cleanups = cleanupAfterEach();
const setup = (options: Partial<EventRouterOptions> = {}) => startInProcRouter(cleanups, options);

describe('EventRouter memory and frames, in bytes', () => {
  it('regression(13.13): holds at most maxHistoryBytes and maxOpenEventBytes of events, and still serves all', async () => {
    const bound = 64 * 1024;
    const { store, transport, router } = await setup({ maxHistoryBytes: bound, maxOpenEventBytes: bound });
    await placeEvents(store, 40, () => 'hv-1', 'r1', 'b'.repeat(4_000));
    await until(async () => router.stats().cursor === (await store.head()), 'the router caught up');
    const { history, openEvents } = router.stats();
    expect(history.bytes).toBeLessThanOrEqual(bound);
    expect(history.size).toBeLessThan(40);
    // Past its byte bound the open set releases every encoding: resyncs read the store instead.
    expect(openEvents).toEqual({ size: 40, complete: false, bytes: 0 });
    const ledger = new Ledger();
    const agent = testAgent({ serverId: 'hv-1', urls: ['inproc://r1'], connector: transport, ledger });
    cleanups.push(() => agent.stop());
    await agent.start();
    await until(async () => (await countDone(store)) === 40, 'all 40 done');
    expect(router.stats().resyncs).toEqual({ total: 1, fromStore: 1 });
  });

  it('cuts snapshot frames by bytes, as it cuts events frames', async () => {
    const { store, transport, router } = await setup();
    await placeEvents(store, 600, () => 'hv-1', 'r1', 's'.repeat(2_000));
    await until(async () => router.stats().cursor === (await store.head()), 'the router caught up');
    const raw = await RawInProc.open(transport);
    await raw.hello('hv-1');
    raw.send({ type: 'snapshot' });
    await until(() => raw.of('snapshot').some((f) => f.done === true), 'the whole snapshot');
    const pages = raw.of('snapshot');
    expect(pages.flatMap((f) => f.events as unknown[])).toHaveLength(600);
    for (const page of pages) expect(JSON.stringify(page).length).toBeLessThan(FRAME_TARGET_BYTES + 4_000);
  });
});
