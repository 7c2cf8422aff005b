/**
 * An agent never sends a result the router or the store would refuse: such an event fails with
 * the rule as its error, instead of being sent again after every reconnect (issue 13, the frame
 * bounds seen from the agent's side).
 */
import { Agent, type JsonValue, MAX_RESULT_BYTES } from '@ctlplane/core';
import { describe, expect, it } from 'vitest';
import { cleanupAfterEach } from '../integration/fixtures/router-harness.js';
import { keyring, placeEvents, types, until } from '../integration/fixtures/router-kit.js';
import { startInProcRouter } from '../integration/fixtures/router-raw.js';

const cleanups = cleanupAfterEach();
const setup = () => startInProcRouter(cleanups);

describe('Agent results', () => {
  it('fails an event whose result could not travel, instead of sending it again after every reconnect', async () => {
    const { store, transport } = await setup();
    let deep: JsonValue = 1;
    for (let i = 0; i < 70; i++) deep = { a: deep };
    const outcomes: Record<number, JsonValue> = {
      0: deep,
      1: 'x'.repeat(MAX_RESULT_BYTES),
      2: { fine: true },
    };
    const agent = new Agent({
      serverId: 'hv-1',
      token: keyring().sign({ serverId: 'hv-1', region: 'r1' }),
      urls: ['inproc://r1'],
      connector: transport,
      types,
      backoff: { initialMs: 20, maxMs: 200 },
      handlers: { 'vm.create': (e) => outcomes[e.payload.n]! },
    });
    cleanups.push(() => agent.stop());
    await agent.start();
    const [tooDeep, tooBig, fine] = await placeEvents(store, 3, () => 'hv-1');
    await until(async () => (await store.get(fine!.id))?.status === 'done', 'the fine one done');
    await until(async () => (await store.get(tooBig!.id))?.status === 'failed', 'the big one failed');
    expect(await store.get(tooDeep!.id)).toMatchObject({
      status: 'failed',
      error: 'result must not nest deeper than 64 levels',
    });
    expect((await store.get(tooBig!.id))?.error).toBe(
      `result must be at most ${MAX_RESULT_BYTES} bytes as JSON`,
    );
    expect((await store.get(fine!.id))?.result).toEqual({ fine: true });
  });
});
