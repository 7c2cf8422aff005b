/**
 * A welcomed agent that sends frames faster than `maxFramesPerSecond` is cut off with
 * `rate-limited` before those frames are parsed or answered; one that keeps to the rate is served
 * (issue 13: a flood of heartbeats held the router's event loop for seconds).
 */
import { CLOSE_CODES, type EventRouterOptions } from '@ctlplane/core';
import { describe, expect, it } from 'vitest';
import { FrameRate } from '../../packages/core/src/router/frame-rate.js';
import { cleanupAfterEach } from '../integration/fixtures/router-harness.js';
import { RawInProc, startInProcRouter } from '../integration/fixtures/router-raw.js';

const cleanups = cleanupAfterEach();
const setup = (options: Partial<EventRouterOptions> = {}) => startInProcRouter(cleanups, options);
const heartbeat = (at: number) => ({ type: 'heartbeat', at, metrics: { cpu: 1 } });

describe('EventRouter frame rate per agent', () => {
  it('closes a flooding agent with rate-limited once its burst is spent, without answering the rest', async () => {
    const { transport } = await setup({ maxFramesPerSecond: 50 });
    const agent = await RawInProc.open(transport);
    await agent.hello('hv-1');
    for (let i = 0; i < 5_000; i++) agent.send(heartbeat(i));
    const closed = await agent.whenClosed();
    expect(closed).toEqual({ code: CLOSE_CODES['rate-limited'], reason: 'more than 50 frames per second' });
    // The hello and at most a second's burst of heartbeats were handled; nothing after the cut.
    expect(agent.of('pong').length).toBeLessThanOrEqual(50);
    expect(agent.of('pong').length).toBeGreaterThan(40);
  });

  it('serves an agent that keeps to the rate', async () => {
    const { transport } = await setup({ maxFramesPerSecond: 50 });
    const agent = await RawInProc.open(transport);
    await agent.hello('hv-1');
    for (let i = 0; i < 60; i++) {
      agent.send(heartbeat(i));
      await new Promise((r) => setTimeout(r, 25));
    }
    await new Promise((r) => setTimeout(r, 50));
    expect(agent.closed).toBeNull();
    expect(agent.of('pong')).toHaveLength(60);
    agent.close();
  });

  it('refills at the rate and holds at most one second of burst', () => {
    const rate = new FrameRate(10, 0);
    for (let i = 0; i < 10; i++) expect(rate.take(0)).toBe(true);
    expect(rate.take(0)).toBe(false);
    expect(rate.take(100)).toBe(true);
    expect(rate.take(100)).toBe(false);
    // A long quiet refills no more than the burst.
    for (let i = 0; i < 10; i++) expect(rate.take(60_000)).toBe(true);
    expect(rate.take(60_000)).toBe(false);
  });

  it('takes nothing away when the clock steps back', () => {
    const rate = new FrameRate(1_000, 10_000);
    expect(rate.take(8_000)).toBe(true); // two seconds back: the bucket is as it was, less one
    for (let i = 0; i < 998; i++) expect(rate.take(8_000)).toBe(true);
    // And time counts on from the step: 100 ms later, 100 more frames.
    for (let i = 0; i < 100; i++) expect(rate.take(8_100)).toBe(true);
  });
});
