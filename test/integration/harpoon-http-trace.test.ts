/**
 * The W3C trace context over Harpoon's HTTP API (issue 17): a write with a `traceparent` header
 * runs in a server span, a child of the caller's; a coalesced transition item carries its own
 * context, to which the group commit links; HarpoonClient sends the active span either way.
 */
import { MemoryEventStoreDriver } from '@ctlplane/adapters/memory';
import { EventStore, Harpoon, HarpoonClient, HarpoonHttpServer } from '@ctlplane/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { create, type TestSchemas, testTypes } from '../contract/event-store.fixtures.js';
import { traceparentOf, useTracing } from '../support/otel.js';

/** The parts of an answer the tests read. */
interface Answer {
  event: { id: number; version: number; traceContext: { traceparent: string } | null };
  outcomes: { ok: boolean }[];
}

const TOKEN = 'api-token-0123456789abcdef';
const CALLER = { trace: '4bf92f3577b34da6a3ce929d0e0e4736', span: '00f067aa0ba902b7' };
const TRACEPARENT = `00-${CALLER.trace}-${CALLER.span}-01`;

describe('Harpoon over HTTP, traced', () => {
  const otel = useTracing();
  const store = new EventStore({ driver: new MemoryEventStoreDriver(), types: testTypes });
  const harpoon = new Harpoon<TestSchemas>({ store, transitions: { lingerMs: 20 } });
  const server = new HarpoonHttpServer({ harpoon, tokens: [{ service: 'api', token: TOKEN }] });

  beforeAll(() => server.listen());
  afterAll(async () => {
    await server.close();
    await harpoon.close();
    await store.close();
  });

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    }).then(async (r) => ({ status: r.status, json: (await r.json()) as Answer }));

  it('runs a write with a traceparent header in a server span, a child of the caller', async () => {
    const res = await post(
      '/v1/events',
      { event: create(1) },
      { traceparent: TRACEPARENT, tracestate: 'k=v' },
    );
    expect(res.status).toBe(201);
    const [request] = otel.spans('ctlplane.harpoon.request');
    expect(request!.spanContext().traceId).toBe(CALLER.trace);
    expect(request!.parentSpanContext?.spanId).toBe(CALLER.span);
    expect(request!.attributes['http.request.method']).toBe('POST');
    // The event records the active span: the server span, in the caller's trace.
    expect(res.json.event.traceContext?.traceparent).toBe(traceparentOf(request!));

    const event = res.json.event;
    otel.exporter.reset();
    const moved = await post(
      '/v1/transitions',
      { transition: { id: event.id, version: event.version, to: 'cancelled' } },
      { traceparent: TRACEPARENT },
    );
    expect(moved.status).toBe(200);
    const [commit] = otel.spans('ctlplane.transitions');
    const [request2] = otel.spans('ctlplane.harpoon.request');
    const linked = commit!.links.map((l) => l.context.spanId);
    // Linked to the request (the caller's span on this side) and to the event's creator.
    expect(linked).toContain(request2!.spanContext().spanId);
    expect(linked).toContain(request!.spanContext().spanId);
  });

  it('ignores a malformed traceparent: no span, the write succeeds untraced', async () => {
    const res = await post('/v1/events', { event: create(2) }, { traceparent: TRACEPARENT.toUpperCase() });
    expect(res.status).toBe(201);
    expect(res.json.event.traceContext).toBeNull();
    expect(otel.spans('ctlplane.harpoon.request')).toEqual([]);
  });

  it('takes a trace context per coalesced transition item; the group commit links to each', async () => {
    const a = await harpoon.create(create(3));
    const b = await harpoon.create(create(4));
    const other = `00-${CALLER.trace}-1111111111111111-01`;
    const res = await post('/v1/transitions', {
      each: [
        { id: a.id, version: a.version, to: 'cancelled', traceContext: { traceparent: TRACEPARENT } },
        { id: b.id, version: b.version, to: 'cancelled', traceContext: { traceparent: other } },
      ],
    });
    expect(res.json.outcomes.map((o) => o.ok)).toEqual([true, true]);
    const links = otel.spans('ctlplane.transitions').flatMap((s) => s.links.map((l) => l.context.spanId));
    expect(links).toEqual(expect.arrayContaining([CALLER.span, '1111111111111111']));
  });

  it("HarpoonClient sends the caller's span: as headers uncoalesced, on each item coalesced", async () => {
    const plain = new HarpoonClient<TestSchemas>({ url: server.url, token: TOKEN, coalesce: false });
    const coalescing = new HarpoonClient<TestSchemas>({ url: server.url, token: TOKEN });
    try {
      const { user, created } = await otel.inSpan('user.request', async (span) => ({
        user: span,
        created: await plain.createMany([create(5)]),
      }));
      const [request] = otel.spans('ctlplane.harpoon.request');
      expect(request!.parentSpanContext?.spanId).toBe(user.spanContext().spanId);
      expect(created[0]!.traceContext?.traceparent).toBe(traceparentOf(user));

      otel.exporter.reset();
      const e = created[0]!;
      const mover = await otel.inSpan('user.cancel', async (span) => {
        await coalescing.transition({ id: e.id, version: e.version, to: 'cancelled' });
        return span;
      });
      // A coalesced request carries no header (it serves many callers) ...
      expect(otel.spans('ctlplane.harpoon.request')).toEqual([]);
      // ... its item carried the caller's span, to which the commit links.
      const links = otel.spans('ctlplane.transitions').flatMap((s) => s.links.map((l) => l.context.spanId));
      expect(links).toContain(mover.spanContext().spanId);
    } finally {
      await plain.close();
      await coalescing.close();
    }
  });
});
