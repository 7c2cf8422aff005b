/**
 * regression(ack-settle-throws), review of 2026-12-06: a `router:acks:applied` listener that threw
 * made the ack batcher's batch promise reject, and nobody awaited it (the batch was started by a
 * timer): an unhandled rejection, which ends a Node process. The failure is now logged and the
 * router goes on applying acknowledgements.
 */
import { EventRouter, InProcessTransport, PROTOCOL_VERSION, StorePollInput } from '@ctlplane/core';
import { afterEach, expect, it } from 'vitest';
import { keyring, memoryStore, placeEvents, until } from '../integration/fixtures/router-kit.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

it('regression(ack-settle-throws): a throwing acks:applied listener is logged, not an unhandled rejection', async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  cleanups.push(() => void process.off('unhandledRejection', onUnhandled));
  const errors: string[] = [];
  const logger = {
    debug: () => {},
    info: () => {},
    warn: () => {},
    error: (m: string) => void errors.push(m),
    child: () => logger,
  };
  const store = memoryStore();
  const transport = new InProcessTransport();
  const router = new EventRouter({
    store,
    region: 'r1',
    auth: keyring(),
    input: new StorePollInput({ store, pollMs: 10 }),
    logger,
  });
  await router.listen(transport.server('r1'));
  cleanups.push(() => router.close());
  let applied = 0;
  router.on('router:acks:applied', () => {
    applied++;
    throw new Error('listener bug');
  });
  const [first, second] = await placeEvents(store, 2, () => 'a');
  const conn = await transport.connect('inproc://r1');
  const frames: Array<{ type: string; events?: unknown[] }> = [];
  conn.bind({ message: (t) => frames.push(JSON.parse(t)), closed: () => {} });
  const token = keyring().sign({ serverId: 'a', region: 'r1' });
  conn.send(
    JSON.stringify({ type: 'hello', protocol: PROTOCOL_VERSION, token, serverId: 'a', cursor: null }),
  );
  await until(() => frames.some((f) => f.type === 'resync'), 'resync');
  conn.send(JSON.stringify({ type: 'snapshot' }));
  const delivered = () =>
    frames.flatMap((f) => (f.type === 'events' || f.type === 'snapshot' ? f.events! : []));
  await until(() => delivered().length === 2, 'both events');

  conn.send(JSON.stringify({ type: 'ack', acks: [{ id: first!.id, status: 'running' }] }));
  await until(() => applied === 1, 'first batch settled');
  // The router still applies acknowledgements after the listener threw.
  conn.send(JSON.stringify({ type: 'ack', acks: [{ id: second!.id, status: 'running' }] }));
  await until(async () => (await store.get(second!.id))!.status === 'running', 'second applied');
  await until(() => applied === 2, 'second batch settled');
  await new Promise((r) => setTimeout(r, 50)); // unhandled rejections are reported a tick later
  expect(unhandled).toEqual([]);
  expect(errors).toContain('settling a batch of acknowledgements threw; the router goes on');
  conn.close(1000, 'done');
});
