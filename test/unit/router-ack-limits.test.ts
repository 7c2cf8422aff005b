/**
 * regression(ack-result-unbounded), issue 13 finding 2: any host agent's `done` ack with a 1 MB
 * result was stored, and its change could then never be published. The router now refuses an
 * ack the store would refuse, alone, with a typed error; the agent's other acks still apply (a
 * well-behaved Agent fails such an event itself: test/unit/router-agent-results.test.ts).
 */
import { MAX_RESULT_BYTES } from '@ctlplane/core';
import { afterEach, expect, it } from 'vitest';
import { placeEvents, until } from '../integration/fixtures/router-kit.js';
import { RawInProc, startInProcRouter } from '../integration/fixtures/router-raw.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

it('regression(ack-result-unbounded): refuses a done ack whose result is over the limit, alone', async () => {
  const { store, transport } = await startInProcRouter(cleanups);
  const [big, fine] = await placeEvents(store, 2, () => 'a');
  const conn = await RawInProc.live(transport, 'a', 2);
  const running = [big!.id, fine!.id].map((id) => ({ id, status: 'running' }));
  conn.send({ type: 'ack', acks: running });
  await until(async () => (await store.get(fine!.id))!.status === 'running', 'running');
  conn.send({
    type: 'ack',
    acks: [
      { id: big!.id, status: 'done', result: { blob: 'x'.repeat(MAX_RESULT_BYTES) } },
      { id: fine!.id, status: 'done', result: { ok: true } },
    ],
  });
  const results = () => conn.of('acked').flatMap((f) => f.results as unknown[]);
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
  conn.close();
});
