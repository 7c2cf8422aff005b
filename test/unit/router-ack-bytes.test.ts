/**
 * regression(ack-bytes-utf16), review of 2026-12-06: the router counted an ack frame's size as
 * `text.length`, UTF-16 code units, so a frame of 3-byte characters counted a third of its
 * bytes against `maxPendingAckBytes`. It is now counted in UTF-8 bytes, as the frame limit is.
 */
import { afterEach, expect, it } from 'vitest';
import { placeEvents, until } from '../integration/fixtures/router-kit.js';
import { RawInProc, startInProcRouter } from '../integration/fixtures/router-raw.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

it('regression(ack-bytes-utf16): queued acks are counted in UTF-8 bytes', async () => {
  // ackFlushMs: the ack stays queued while the test looks at it.
  const { store, transport, router } = await startInProcRouter(cleanups, { ackFlushMs: 10_000 });
  const [e] = await placeEvents(store, 1, () => 'a');
  const conn = await RawInProc.live(transport, 'a', 1);
  // 60,000 euro signs: 60,000 UTF-16 units, 180,000 UTF-8 bytes.
  const frame = JSON.stringify({
    type: 'ack',
    acks: [{ id: e!.id, status: 'done', result: { s: '€'.repeat(60_000) } }],
  });
  conn.send(frame);
  await until(() => router.stats().pendingAcks.count === 1, 'the ack queued');
  expect(router.stats().pendingAcks.bytes).toBe(Buffer.byteLength(frame, 'utf8'));
  expect(router.stats().pendingAcks.bytes).toBeGreaterThan(180_000);
  conn.close();
});

it('regression(ack-pending-inflight): pendingAcks counts the batch being applied, as its bytes do', async () => {
  const { store, transport, router } = await startInProcRouter(cleanups, { ackFlushMs: 0 });
  let open: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  const transitionMany = store.transitionMany.bind(store);
  store.transitionMany = async (inputs) => {
    await gate;
    return transitionMany(inputs);
  };
  cleanups.push(async () => open());
  const [e] = await placeEvents(store, 1, () => 'a');
  const conn = await RawInProc.live(transport, 'a', 1);
  conn.send({ type: 'ack', acks: [{ id: e!.id, status: 'running' }] });
  await new Promise((r) => setTimeout(r, 50)); // the batch left the queue and waits on the store
  // main 3d9e261: { count: 0, bytes: > 0 } while the batch was being applied.
  expect(router.stats().pendingAcks.count).toBe(1);
  expect(router.stats().pendingAcks.bytes).toBeGreaterThan(0);
  open();
  await until(() => conn.of('acked').length > 0, 'the answer');
  expect(router.stats().pendingAcks).toEqual({ count: 0, bytes: 0 });
  conn.close();
});
