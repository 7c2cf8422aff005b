/**
 * regression(ack-bytes-utf16), review of 2026-12-06: the router counted an ack frame's size as
 * `text.length`, UTF-16 code units, so a frame of 3-byte characters counted a third of its
 * bytes against `maxPendingAckBytes`. It is now counted in UTF-8 bytes, as the frame limit is.
 */
import { EventRouter, InProcessTransport, PROTOCOL_VERSION, StorePollInput } from '@ctlplane/core';
import { afterEach, expect, it } from 'vitest';
import { keyring, memoryStore, placeEvents, until } from '../integration/fixtures/router-kit.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

it('regression(ack-bytes-utf16): queued acks are counted in UTF-8 bytes', async () => {
  const store = memoryStore();
  const transport = new InProcessTransport();
  const router = new EventRouter({
    store,
    region: 'r1',
    auth: keyring(),
    input: new StorePollInput({ store, pollMs: 10 }),
    ackFlushMs: 10_000, // the ack stays queued while the test looks at it
  });
  await router.listen(transport.server('r1'));
  cleanups.push(() => router.close());
  const [e] = await placeEvents(store, 1, () => 'a');
  const conn = await transport.connect('inproc://r1');
  const frames: Array<{ type: string; events?: unknown[] }> = [];
  conn.bind({ message: (t) => frames.push(JSON.parse(t)), closed: () => {} });
  const token = keyring().sign({ serverId: 'a', region: 'r1' });
  conn.send(
    JSON.stringify({ type: 'hello', protocol: PROTOCOL_VERSION, token, serverId: 'a', cursor: null }),
  );
  await until(() => frames.some((f) => f.type === 'resync'), 'resync');
  conn.send(JSON.stringify({ type: 'snapshot' }));
  await until(
    () => frames.some((f) => (f.type === 'events' || f.type === 'snapshot') && f.events!.length === 1),
    'the event',
  );
  // 60,000 euro signs: 60,000 UTF-16 units, 180,000 UTF-8 bytes.
  const frame = JSON.stringify({
    type: 'ack',
    acks: [{ id: e!.id, status: 'done', result: { s: '€'.repeat(60_000) } }],
  });
  conn.send(frame);
  await until(() => router.stats().pendingAcks.count === 1, 'the ack queued');
  expect(router.stats().pendingAcks.bytes).toBe(Buffer.byteLength(frame, 'utf8'));
  expect(router.stats().pendingAcks.bytes).toBeGreaterThan(180_000);
  conn.close(1000, 'done');
});

it('regression(ack-pending-inflight): pendingAcks counts the batch being applied, as its bytes do', async () => {
  const store = memoryStore();
  let open: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  const transitionMany = store.transitionMany.bind(store);
  store.transitionMany = async (inputs) => {
    await gate;
    return transitionMany(inputs);
  };
  const transport = new InProcessTransport();
  const router = new EventRouter({
    store,
    region: 'r1',
    auth: keyring(),
    input: new StorePollInput({ store, pollMs: 10 }),
    ackFlushMs: 0,
  });
  await router.listen(transport.server('r1'));
  cleanups.push(() => router.close());
  cleanups.push(async () => open());
  const [e] = await placeEvents(store, 1, () => 'a');
  const conn = await transport.connect('inproc://r1');
  const frames: Array<{ type: string; events?: unknown[] }> = [];
  conn.bind({ message: (t) => frames.push(JSON.parse(t)), closed: () => {} });
  const token = keyring().sign({ serverId: 'a', region: 'r1' });
  conn.send(
    JSON.stringify({ type: 'hello', protocol: PROTOCOL_VERSION, token, serverId: 'a', cursor: null }),
  );
  await until(() => frames.some((f) => f.type === 'resync'), 'resync');
  conn.send(JSON.stringify({ type: 'snapshot' }));
  await until(
    () => frames.some((f) => (f.type === 'events' || f.type === 'snapshot') && f.events!.length === 1),
    'the event',
  );
  conn.send(JSON.stringify({ type: 'ack', acks: [{ id: e!.id, status: 'running' }] }));
  await new Promise((r) => setTimeout(r, 50)); // the batch left the queue and waits on the store
  // main 3d9e261: { count: 0, bytes: > 0 } while the batch was being applied.
  expect(router.stats().pendingAcks.count).toBe(1);
  expect(router.stats().pendingAcks.bytes).toBeGreaterThan(0);
  open();
  await until(() => frames.some((f) => f.type === 'acked'), 'the answer');
  expect(router.stats().pendingAcks).toEqual({ count: 0, bytes: 0 });
  conn.close(1000, 'done');
});
