/**
 * The Batcher's time bound on queued items (`maxWaitMs`): an item still queued behind batches in
 * flight when its time is up fails with `expired()` and never runs; a batch's `run` is told the
 * deadline of its oldest item.
 */
import { describe, expect, it } from 'vitest';
import { Batcher } from '../../packages/core/src/harpoon/batcher.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Batcher maxWaitMs', () => {
  it('fails an item still queued after maxWaitMs without running it; the batch in flight is told its deadline', async () => {
    const ran: number[][] = [];
    const deadlines: number[] = [];
    const b = new Batcher<number, number>({
      name: 'test',
      maxBatch: 10,
      lingerMs: 0,
      concurrency: 1,
      maxPending: 100,
      maxWaitMs: 100,
      expired: (ms) => new Error(`expired after ${Math.round(ms)} ms`),
      run: async (items, { deadline }) => {
        ran.push([...items]);
        deadlines.push(deadline - performance.now());
        await sleep(300); // ignores its deadline: the queued item must not wait for it
        return items;
      },
    });
    const first = b.submit(1);
    await sleep(20);
    const t0 = performance.now();
    const second = b.submit(2).catch((e: Error) => e);
    const err = await second;
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/^expired after \d+ ms$/);
    expect(performance.now() - t0).toBeLessThan(200);
    expect(b.pending).toBe(1);
    expect(await first).toBe(1);
    expect(ran).toEqual([[1]]);
    expect(deadlines[0]).toBeGreaterThan(50);
    expect(deadlines[0]).toBeLessThanOrEqual(100);
    await b.close();
  });

  it('without maxWaitMs an item waits as long as it takes, and the deadline is Infinity', async () => {
    let deadline = 0;
    const b = new Batcher<number, number>({
      name: 'test',
      maxBatch: 10,
      lingerMs: 0,
      concurrency: 1,
      maxPending: 100,
      run: async (items, info) => {
        deadline = info.deadline;
        return items;
      },
    });
    expect(await b.submit(1)).toBe(1);
    expect(deadline).toBe(Infinity);
  });
});
