/**
 * regression(ack-settle-throws), review of 2026-12-06: a `router:acks:applied` listener that threw
 * made the ack batcher's batch promise reject, and nobody awaited it (the batch was started by a
 * timer): an unhandled rejection, which ends a Node process. The failure is now logged and the
 * router goes on applying acknowledgements.
 */
import { afterEach, expect, it } from 'vitest';
import { placeEvents, until } from '../integration/fixtures/router-kit.js';
import { RawInProc, startInProcRouter } from '../integration/fixtures/router-raw.js';
import { errorLog } from '../support/error-log.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

it('regression(ack-settle-throws): a throwing acks:applied listener is logged, not an unhandled rejection', async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  cleanups.push(async () => void process.off('unhandledRejection', onUnhandled));
  const { logger, errors } = errorLog();
  const { store, transport, router } = await startInProcRouter(cleanups, { logger });
  let applied = 0;
  router.on('router:acks:applied', () => {
    applied++;
    throw new Error('listener bug');
  });
  const [first, second] = await placeEvents(store, 2, () => 'a');
  const conn = await RawInProc.live(transport, 'a', 2);
  conn.send({ type: 'ack', acks: [{ id: first!.id, status: 'running' }] });
  await until(() => applied === 1, 'first batch settled');
  // The router still applies acknowledgements after the listener threw.
  conn.send({ type: 'ack', acks: [{ id: second!.id, status: 'running' }] });
  await until(async () => (await store.get(second!.id))!.status === 'running', 'second applied');
  await until(() => applied === 2, 'second batch settled');
  await new Promise((r) => setTimeout(r, 50)); // unhandled rejections are reported a tick later
  expect(unhandled).toEqual([]);
  expect(errors).toContain('settling a batch of acknowledgements threw; the router goes on');
  conn.close();
});
