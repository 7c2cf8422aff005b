/**
 * Tracing through `@opentelemetry/api` (issue 17, first part): the trace context recorded on a
 * created event, and the spans of the append, the relay's publish and the agent's handler, checked
 * by trace and parent ids with the SDK's in-memory exporter. Also: with the API missing, the loader
 * gives null; with the API but no SDK, nothing is recorded.
 */
import { MemoryBus, MemoryCursorStore } from '@ctlplane/adapters/memory';
import { EventRouter, Harpoon, InProcessTransport, type StoredEvent } from '@ctlplane/core';
import { context, type Span, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { agentFrameSchema } from '../../packages/core/src/router/protocol.js';
import { loadOtel } from '../../packages/core/src/tracing/otel.js';
import { activeTraceContext } from '../../packages/core/src/tracing/tracing.js';
import { keyring, Ledger, memoryStore, testAgent, until } from '../integration/fixtures/router-kit.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const vm = (n: number, extra: Record<string, unknown> = {}) => ({
  type: 'vm.create' as const,
  payload: { n },
  region: 'r1',
  ...extra,
});

/** The user's span, as the W3C traceparent an event created inside it must carry. */
const traceparentOf = (span: Span) => {
  const sc = span.spanContext();
  return `00-${sc.traceId}-${sc.spanId}-01`;
};

describe('loading @opentelemetry/api', () => {
  it('gives null when the module is missing or is not the API, and the API otherwise', async () => {
    const missing = () => {
      throw Object.assign(new Error("Cannot find module '@opentelemetry/api'"), { code: 'MODULE_NOT_FOUND' });
    };
    expect(loadOtel(missing)).toBeNull();
    expect(loadOtel(() => ({ trace: {} }))).toBeNull();
    expect(loadOtel(() => null)).toBeNull();
    const api = await import('@opentelemetry/api');
    expect(loadOtel(() => api)).not.toBeNull();
  });
});

describe('the router protocol', () => {
  it("accepts an acknowledgement carrying the agent's trace context, validated and bounded", () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const ack = (traceContext: unknown) => ({ type: 'ack', acks: [{ id: 1, status: 'done', traceContext }] });
    expect(agentFrameSchema.safeParse(ack({ traceparent, tracestate: 'a=b' })).success).toBe(true);
    expect(agentFrameSchema.safeParse(ack({ traceparent: traceparent.toUpperCase() })).success).toBe(false);
    expect(agentFrameSchema.safeParse(ack({ traceparent, tracestate: 'x'.repeat(513) })).success).toBe(false);
    expect(agentFrameSchema.safeParse(ack({ traceparent, extra: 1 })).success).toBe(false);
  });
});

describe('without an SDK', () => {
  it('records no trace context and creates events as before', async () => {
    const store = memoryStore();
    cleanups.push(() => store.close());
    const tracer = trace.getTracer('user');
    const [e] = await tracer.startActiveSpan('user.request', async (span) => {
      try {
        return await store.append([vm(1)]);
      } finally {
        span.end();
      }
    });
    expect(activeTraceContext()).toBeNull();
    expect(e!.traceContext).toBeNull();
  });
});

describe('with the SDK (BasicTracerProvider, in-memory exporter, AsyncLocalStorage)', () => {
  const exporter = new InMemorySpanExporter();
  const tracer = () => trace.getTracer('user');
  const spans = (name: string): ReadableSpan[] => exporter.getFinishedSpans().filter((s) => s.name === name);

  beforeEach(() => {
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(provider);
  });
  afterEach(() => {
    trace.disable();
    context.disable();
    exporter.reset();
  });

  /** Run `fn` in a new user span; resolves to its result and the span. */
  async function inUserSpan<T>(fn: () => Promise<T>): Promise<{ out: T; span: Span }> {
    return tracer().startActiveSpan('user.request', async (span) => {
      try {
        return { out: await fn(), span };
      } finally {
        span.end();
      }
    });
  }

  it("records the caller's span on events created inside it; an explicit context or null wins", async () => {
    const store = memoryStore();
    const harpoon = new Harpoon({ store, creates: { lingerMs: 5 } });
    cleanups.push(
      () => store.close(),
      () => harpoon.close(),
    );
    const explicit = { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' };
    const { out, span } = await inUserSpan(() =>
      Promise.all([
        harpoon.create(vm(1)),
        harpoon.create(vm(2, { traceContext: explicit })),
        harpoon.create(vm(3, { traceContext: null })),
      ]),
    );
    expect(out.map((e) => e.traceContext)).toEqual([{ traceparent: traceparentOf(span) }, explicit, null]);
    // Stored, not only returned.
    expect((await store.get(out[0]!.id))!.traceContext).toEqual({ traceparent: traceparentOf(span) });
    // Outside any span: none.
    expect((await harpoon.create(vm(4))).traceContext).toBeNull();
  });

  it('a direct append is a child of the caller; a group commit is a root linked to each caller', async () => {
    const store = memoryStore();
    const harpoon = new Harpoon({ store, creates: { lingerMs: 20 } });
    cleanups.push(
      () => store.close(),
      () => harpoon.close(),
    );
    const direct = await inUserSpan(() => store.append([vm(1), vm(2)]));
    const [own] = spans('ctlplane.append');
    expect(own!.spanContext().traceId).toBe(direct.span.spanContext().traceId);
    expect(own!.parentSpanContext?.spanId).toBe(direct.span.spanContext().spanId);
    expect(own!.attributes['db.operation.batch.size']).toBe(2);
    exporter.reset();

    const callers = await Promise.all([1, 2, 3].map((n) => inUserSpan(() => harpoon.create(vm(n)))));
    const commits = spans('ctlplane.append');
    expect(commits).toHaveLength(1);
    const commit = commits[0]!;
    expect(commit.parentSpanContext).toBeUndefined();
    expect(commit.attributes['db.operation.batch.size']).toBe(3);
    const linked = commit.links.map((l) => l.context.spanId).sort();
    expect(linked).toEqual(callers.map((c) => c.span.spanContext().spanId).sort());
  });

  it('the relay publish span links to each event stored context; each message carries it in headers', async () => {
    const store = memoryStore();
    const bus = new MemoryBus();
    const harpoon = new Harpoon({ store, bus, cursors: new MemoryCursorStore(), relay: { pollMs: 10 } });
    cleanups.push(
      () => bus.close(),
      () => store.close(),
      () => harpoon.close(),
    );
    const heard: string[] = [];
    await bus.subscribe({ queue: 'audit', bindings: ['#'] }, (d) => {
      heard.push(String(d.message.headers.traceparent));
    });
    const { out, span } = await inUserSpan(() => harpoon.create(vm(1)));
    harpoon.start();
    // The message carries the event's stored context (its creator's), not the relay round's span.
    await until(() => heard.length >= 1, 'the change reaches a consumer');
    expect(heard[0]).toBe(traceparentOf(span));
    await until(() => harpoon.stats.published >= 1, 'the relay publishes the change');
    await until(() => spans('ctlplane.relay.publish').length >= 1, 'the publish span ends');
    const [publish] = spans('ctlplane.relay.publish');
    expect(publish!.parentSpanContext).toBeUndefined();
    expect(publish!.links.map((l) => l.context.spanId)).toContain(span.spanContext().spanId);
    expect(publish!.attributes['messaging.batch.message_count']).toBeGreaterThanOrEqual(1);
    expect(out.traceContext).not.toBeNull();
  });

  it("the agent's handler span is a child of the event's stored context, and the user's spans nest in it", async () => {
    const store = memoryStore();
    const router = new EventRouter({ store, region: 'r1', auth: keyring() });
    const transport = new InProcessTransport();
    const ledger = new Ledger();
    const inner: Span[] = [];
    const agent = testAgent({
      serverId: 'hv-1',
      urls: ['inproc://r1'],
      connector: transport,
      ledger,
      handle: async () => {
        // The user's own span inside the handler.
        await tracer().startActiveSpan('user.work', async (span) => {
          inner.push(span);
          span.end();
        });
      },
    });
    cleanups.push(
      () => store.close(),
      () => router.close(),
      () => agent.stop(),
    );
    await router.listen(transport.server('r1'));
    await agent.start();
    const { out, span } = await inUserSpan(() => store.append([vm(1, { serverId: 'hv-1' })]));
    const event = out[0] as StoredEvent;
    await until(async () => (await store.get(event.id))?.status === 'done', 'the agent finishes the event');
    const [handle] = spans('ctlplane.agent.handle');
    expect(handle!.spanContext().traceId).toBe(span.spanContext().traceId);
    expect(handle!.parentSpanContext?.spanId).toBe(span.spanContext().spanId);
    expect(handle!.attributes['ctlplane.event.id']).toBe(event.id);
    // The router queued the change for hv-1's agent: a delivery span in the creator's trace.
    const deliveries = spans('ctlplane.router.deliver');
    const placed = deliveries.find((d) => d.attributes['ctlplane.event.version'] === 1)!;
    expect(placed.parentSpanContext?.spanId).toBe(span.spanContext().spanId);
    expect(placed.attributes['ctlplane.agent.id']).toBe('hv-1');
    expect(placed.attributes['ctlplane.router.delivery']).toBe('poll');
    expect(placed.attributes['ctlplane.event.status']).toBe('placed');
    // The acknowledgement carried the handler span back: the router's ack batch links to it and
    // records the transition to done as an event.
    await until(() => spans('ctlplane.router.ack').length >= 1, 'the ack batch span ends');
    const acks = spans('ctlplane.router.ack');
    const ack = acks.find((a) => a.links.some((l) => l.context.spanId === handle!.spanContext().spanId))!;
    expect(ack).toBeDefined();
    expect(ack.parentSpanContext).toBeUndefined();
    const done = acks
      .flatMap((a) => a.events)
      .find((e) => e.name === 'ctlplane.transition' && e.attributes?.['ctlplane.transition.to'] === 'done')!;
    expect(done.attributes).toMatchObject({
      'ctlplane.event.id': event.id,
      'ctlplane.transition.to': 'done',
      'ctlplane.transition.from': ['placed', 'claimed', 'running'],
    });
    const [work] = spans('user.work');
    expect(work!.spanContext().spanId).toBe(inner[0]!.spanContext().spanId);
    expect(work!.parentSpanContext?.spanId).toBe(handle!.spanContext().spanId);
    expect(work!.spanContext().traceId).toBe(span.spanContext().traceId);
  });

  it('a transition is an event on the active span; a Harpoon group commit of transitions links to each event', async () => {
    const store = memoryStore();
    const harpoon = new Harpoon({ store, transitions: { lingerMs: 20 } });
    cleanups.push(
      () => store.close(),
      () => harpoon.close(),
    );
    const { out: created, span: creator } = await inUserSpan(() => store.append([vm(1), vm(2)]));
    const [a, b] = created as StoredEvent[];
    const direct = await inUserSpan(() => store.transition({ id: a!.id, from: 'pending', to: 'cancelled' }));
    const own = spans('user.request').find(
      (s) => s.spanContext().spanId === direct.span.spanContext().spanId,
    )!;
    expect(own.events.map((e) => [e.name, e.attributes?.['ctlplane.transition.to']])).toEqual([
      ['ctlplane.transition', 'cancelled'],
    ]);
    await harpoon.transition({ id: b!.id, version: b!.version, to: 'cancelled' });
    const [commit] = spans('ctlplane.transitions');
    expect(commit!.parentSpanContext).toBeUndefined();
    expect(commit!.attributes['db.operation.batch.size']).toBe(1);
    expect(commit!.links.map((l) => l.context.spanId)).toEqual([creator.spanContext().spanId]);
    const [moved] = commit!.events;
    expect(moved!.name).toBe('ctlplane.transition');
    // Set by version only: the status it replaced is not known, so no `from`.
    expect(moved!.attributes).toEqual({
      'ctlplane.event.id': b!.id,
      'ctlplane.event.version': b!.version + 1,
      'ctlplane.transition.to': 'cancelled',
    });
  });
});
