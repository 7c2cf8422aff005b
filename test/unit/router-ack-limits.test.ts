/**
 * regression(ack-result-unbounded), issue 13 finding 2: any host agent's `done` ack with a 1 MB
 * result was stored, and its change could then never be published. The router now refuses an
 * ack the store would refuse, alone, with a typed error; the agent's other acks still apply (a
 * well-behaved Agent fails such an event itself: test/unit/router-agent-results.test.ts).
 */
import {
  EventRouter,
  InProcessTransport,
  MAX_RESULT_BYTES,
  PROTOCOL_VERSION,
  StorePollInput,
} from '@ctlplane/core';
import { afterEach, expect, it } from 'vitest';
import { keyring, memoryStore, placeEvents, until } from '../integration/fixtures/router-kit.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup() {
  const store = memoryStore();
  const transport = new InProcessTransport();
  const router = new EventRouter({
    store,
    region: 'r1',
    auth: keyring(),
    input: new StorePollInput({ store, pollMs: 10 }),
  });
  await router.listen(transport.server('r1'));
  cleanups.push(() => router.close());
  return { store, transport, router };
}

it('regression(ack-result-unbounded): refuses a done ack whose result is over the limit, alone', async () => {
  const { store, transport } = await setup();
  const [big, fine] = await placeEvents(store, 2, () => 'a');
  const conn = await transport.connect('inproc://r1');
  const frames: Array<{ type: string; events?: unknown[]; results?: unknown[] }> = [];
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
  const running = [big!.id, fine!.id].map((id) => ({ id, status: 'running' }));
  conn.send(JSON.stringify({ type: 'ack', acks: running }));
  await until(async () => (await store.get(fine!.id))!.status === 'running', 'running');
  conn.send(
    JSON.stringify({
      type: 'ack',
      acks: [
        { id: big!.id, status: 'done', result: { blob: 'x'.repeat(MAX_RESULT_BYTES) } },
        { id: fine!.id, status: 'done', result: { ok: true } },
      ],
    }),
  );
  const results = () => frames.filter((f) => f.type === 'acked').flatMap((f) => f.results!);
  await until(() => results().length >= 4, 'both done acks answered');
  expect(results()).toContainEqual({
    id: big!.id,
    status: 'done',
    ok: false,
    code: 'VALIDATION',
    message: `result: is more than the ${MAX_RESULT_BYTES}-byte limit (as UTF-8 JSON)`,
  });
  expect(results()).toContainEqual({ id: fine!.id, status: 'done', ok: true, actual: 'done' });
  expect(await store.get(big!.id)).toMatchObject({ status: 'running', result: null });
  expect(await store.get(fine!.id)).toMatchObject({ status: 'done', result: { ok: true } });
  conn.close(1000, 'done');
});
