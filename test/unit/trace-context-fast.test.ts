/**
 * The paths that see a trace context per event (issue 17's traced Harpoon run): `isTraceContext`,
 * the hand-written check that spares zod on rows read back and on bus deliveries, must accept
 * exactly what `traceContextSchema` accepts unchanged; and a group commit of more callers than the
 * SDK keeps links for is linked to the first 128 of them.
 */
import { Harpoon, isTraceContext, traceContextFromHeaders, traceContextSchema } from '@ctlplane/core';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_SPAN_LINKS } from '../../packages/core/src/tracing/tracing.js';
import { memoryStore } from '../integration/fixtures/router-kit.js';
import { useTracing } from '../support/otel.js';

const PARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

/** True when the schema accepts `v` and gives back an equal value, key for key. */
const schemaKeeps = (v: unknown) => {
  const r = traceContextSchema.safeParse(v);
  const keys = (o: object) => Object.keys(o).join();
  return r.success && keys(r.data) === keys(v as object) && JSON.stringify(r.data) === JSON.stringify(v);
};

describe('isTraceContext', () => {
  it('accepts what the schema accepts unchanged, and nothing else', () => {
    const cases: unknown[] = [
      { traceparent: PARENT },
      { traceparent: PARENT, tracestate: 'rojo=00f067aa0ba902b7' },
      { traceparent: PARENT, tracestate: 'k'.repeat(512) },
      { traceparent: PARENT, tracestate: 'k'.repeat(513) },
      { traceparent: PARENT, tracestate: '' },
      { traceparent: PARENT, tracestate: 'caf\u00e9=1' },
      { traceparent: PARENT, tracestate: undefined },
      { traceparent: PARENT, extra: 1 },
      { traceparent: PARENT.toUpperCase() },
      { traceparent: `00-${'0'.repeat(32)}-00f067aa0ba902b7-01` },
      { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01' },
      { traceparent: `01${PARENT.slice(2)}` },
      { traceparent: `${PARENT}0` },
      { tracestate: 'a=b' },
      null,
      PARENT,
      [PARENT],
    ];
    for (const v of cases) expect([v, isTraceContext(v)]).toEqual([v, schemaKeeps(v)]);
  });

  it('agrees with the schema on generated traceparents', () => {
    const hex = (n: number) =>
      fc.string({ unit: fc.constantFrom(...'0123456789abcdefA-'), minLength: n, maxLength: n });
    fc.assert(
      fc.property(hex(2), hex(32), hex(16), hex(2), (v, t, s, f) => {
        const tc = { traceparent: `${v}-${t}-${s}-${f}` };
        expect(isTraceContext(tc)).toBe(schemaKeeps(tc));
      }),
    );
  });

  it('headers parse to the same context on the fast path as through the schema', () => {
    expect(traceContextFromHeaders({ traceparent: PARENT, tracestate: 'a=b' })).toEqual({
      traceparent: PARENT,
      tracestate: 'a=b',
    });
    // A malformed tracestate alone is dropped, the traceparent kept (the schema's path).
    expect(traceContextFromHeaders({ traceparent: PARENT, tracestate: '' })).toEqual({ traceparent: PARENT });
    expect(traceContextFromHeaders({ traceparent: PARENT.toUpperCase() })).toBeNull();
  });
});

describe('links of a group commit', () => {
  const { spans, inSpan } = useTracing();
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it(`links a group commit of ${MAX_SPAN_LINKS + 72} callers to the first ${MAX_SPAN_LINKS}`, async () => {
    const store = memoryStore();
    const harpoon = new Harpoon({ store, creates: { maxBatch: 500, lingerMs: 50 } });
    cleanups.push(
      () => store.close(),
      () => harpoon.close(),
    );
    const n = MAX_SPAN_LINKS + 72;
    const ids: string[] = [];
    await Promise.all(
      Array.from({ length: n }, (_, i) =>
        inSpan('user.request', async (span) => {
          ids.push(span.spanContext().spanId);
          await harpoon.create({ type: 'vm.create', payload: { n: i }, region: 'r1' });
        }),
      ),
    );
    const [commit, ...more] = spans('ctlplane.append');
    expect(more).toHaveLength(0);
    expect(commit!.attributes['db.operation.batch.size']).toBe(n);
    expect(commit!.links.map((l) => l.context.spanId)).toEqual(ids.slice(0, MAX_SPAN_LINKS));
  });
});
