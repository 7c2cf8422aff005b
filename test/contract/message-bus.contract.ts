/**
 * The MessageBus conformance suite, modelled on Watermill's universal pub/sub tests. Every bus
 * adapter runs it unchanged: `describeMessageBus('memory', makeBus, caps)`.
 */
import { randomBytes } from 'node:crypto';
import {
  type BusMessage,
  type BusTopology,
  type Delivery,
  eventRoutingKey,
  isCtlplaneError,
  type MessageBus,
  type OutgoingMessage,
  regionPattern,
  serverPattern,
  typePattern,
} from '@ctlplane/core';
import { trace } from '@opentelemetry/api';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { traceparentOf, useTracing } from '../support/otel.js';

/** What the suite asks of an adapter. */
export interface BusSuiteOptions {
  /** Whether a queue exists, looked at from outside the bus (expiry cannot be seen through the port). */
  readonly queueExists: (name: string) => Promise<boolean>;
  /** Delete exchanges the suite declared (after each test); queues go through `deleteQueue`. */
  readonly deleteExchanges?: (names: string[]) => Promise<void>;
}

/** Builds a bus (a new "process") on the shared broker with this topology. */
export type MakeBus = (options: { topology: BusTopology; prefetch?: number }) => Promise<MessageBus>;

const WAIT = { timeout: 30_000, interval: 10 };

/** A handler that records every delivery and acks it (unless told otherwise). */
function recorder() {
  const messages: BusMessage[] = [];
  const ids = new Set<string>();
  return {
    messages,
    ids,
    handler: (d: Delivery): void => {
      messages.push(d.message);
      ids.add(d.message.id);
    },
  };
}

const msg = (routingKey: string, n: number, extra: Partial<OutgoingMessage> = {}): OutgoingMessage => ({
  routingKey,
  body: { n },
  id: `m-${n}`,
  ...extra,
});

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Run the conformance suite against one adapter. */
export function describeMessageBus(name: string, makeBus: MakeBus, options: BusSuiteOptions): void {
  describe(`MessageBus contract: ${name}`, () => {
    let buses: MessageBus[] = [];
    let queues: string[] = [];
    let exchange = '';

    /** A bus on a fresh exchange per test (all buses of one test share it). */
    async function bus(
      extra: { queues?: BusTopology['queues']; prefetch?: number } = {},
    ): Promise<MessageBus> {
      exchange ||= `ctl.test.${randomBytes(4).toString('hex')}`;
      const b = await makeBus({
        topology: { exchange, queues: extra.queues ?? [] },
        ...(extra.prefetch ? { prefetch: extra.prefetch } : {}),
      });
      buses.push(b);
      await b.ready();
      return b;
    }
    const queue = (tag: string): string => {
      const q = `ctl.test.${tag}.${randomBytes(4).toString('hex')}`;
      queues.push(q);
      return q;
    };

    afterEach(async () => {
      await Promise.all(buses.map((b) => b.close()));
      if (queues.length > 0 || exchange) {
        const admin = await makeBus({ topology: { exchange: exchange || 'ctl.test.admin' } });
        for (const q of queues) await admin.deleteQueue(q);
        await admin.close();
        if (exchange) await options.deleteExchanges?.([exchange, `${exchange}.dead-letter`]);
      }
      buses = [];
      queues = [];
      exchange = '';
    });

    it('publishes and subscribes with payload, headers, id and timestamp', async () => {
      const b = await bus();
      const q = queue('basic');
      const r = recorder();
      await b.subscribe({ queue: q, bindings: ['basic.#'] }, r.handler);
      const before = Date.now();
      await b.publishMany(
        range(100).map((n) => msg(`basic.${n % 3}`, n, { headers: { n, even: n % 2 === 0, tag: `t${n}` } })),
      );
      await vi.waitFor(() => expect(r.messages).toHaveLength(100), WAIT);
      const m = r.messages.find((x) => x.id === 'm-7')!;
      expect(m).toMatchObject({
        routingKey: 'basic.1',
        body: { n: 7 },
        headers: { n: 7, even: false, tag: 't7' },
        redelivered: false,
        deliveryCount: 1,
      });
      expect(m.timestamp).toBeGreaterThanOrEqual(before - 1_000);
      expect(r.ids.size).toBe(100);
    });

    describe('with an OpenTelemetry SDK registered', () => {
      const otel = useTracing();

      it("carries the publisher's trace context in headers; the handler's spans are its children", async () => {
        const b = await bus();
        const q = queue('traced');
        const inner: string[] = [];
        const r = recorder();
        await b.subscribe({ queue: q, bindings: ['traced.#'] }, (d) => {
          r.handler(d);
          // A span the handler starts: a child of the publisher's.
          trace.getTracer('user').startSpan('user.consume').end();
          inner.push(d.message.id);
        });
        const explicit = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
        const publisher = await otel.inSpan('user.publish', async (span) => {
          await b.publish(msg('traced.a', 1));
          // A traceparent the caller set wins over the active span's.
          await b.publish(msg('traced.b', 2, { headers: { traceparent: explicit } }));
          return span;
        });
        await b.publish(msg('traced.c', 3)); // outside any span: no header
        await vi.waitFor(() => expect(inner).toHaveLength(3), WAIT);
        const byId = new Map(r.messages.map((m) => [m.id, m]));
        expect(byId.get('m-1')!.headers.traceparent).toBe(traceparentOf(publisher));
        expect(byId.get('m-2')!.headers.traceparent).toBe(explicit);
        expect(byId.get('m-3')!.headers.traceparent).toBeUndefined();
        const consumed = otel.spans('user.consume');
        const parents = consumed.map((s) => s.parentSpanContext?.spanId).sort();
        expect(parents).toEqual([publisher.spanContext().spanId, '00f067aa0ba902b7', undefined].sort());
        const child = consumed.find((s) => s.parentSpanContext?.spanId === publisher.spanContext().spanId)!;
        expect(child.spanContext().traceId).toBe(publisher.spanContext().traceId);
      });
    });

    it('spreads 5,000 messages over 50 concurrent subscribers, each delivered once', async () => {
      const q = queue('fanin');
      const producers = await bus();
      const consumers = await Promise.all(range(5).map(() => bus()));
      const counts = new Map<number, number>();
      const seen = new Map<string, number>();
      await Promise.all(
        range(50).map((i) =>
          consumers[i % 5]!.subscribe({ queue: q, bindings: ['fanin'], prefetch: 10 }, (d) => {
            counts.set(i, (counts.get(i) ?? 0) + 1);
            seen.set(d.message.id, (seen.get(d.message.id) ?? 0) + 1);
          }),
        ),
      );
      for (let i = 0; i < 5_000; i += 500) {
        await producers.publishMany(range(500).map((n) => msg('fanin', i + n)));
      }
      await vi.waitFor(() => expect(seen.size).toBe(5_000), WAIT);
      await delay(100);
      expect([...seen.values()].every((c) => c === 1)).toBe(true);
      expect(counts.size).toBeGreaterThan(1);
    });

    it('redelivers a nacked message with the same id and a higher delivery count', async () => {
      const b = await bus();
      const q = queue('nack');
      const got: BusMessage[] = [];
      await b.subscribe({ queue: q, bindings: ['nack'] }, (d) => {
        got.push(d.message);
        if (got.length === 1) d.nack({ requeue: true });
        else if (got.length === 2) throw new Error('handler failure also requeues');
      });
      await b.publish(msg('nack', 1));
      await vi.waitFor(() => expect(got).toHaveLength(3), WAIT);
      expect(got.map((m) => [m.id, m.redelivered, m.deliveryCount])).toEqual([
        ['m-1', false, 1],
        ['m-1', true, 2],
        ['m-1', true, 3],
      ]);
      await delay(100);
      expect(got).toHaveLength(3);
    });

    it('sends nothing new before the ack with prefetch 1', async () => {
      const b = await bus();
      const q = queue('prefetch');
      const held: Delivery[] = [];
      await b.subscribe({ queue: q, bindings: ['pf'], prefetch: 1, autoAck: false }, (d) => {
        held.push(d);
      });
      await b.publishMany(range(3).map((n) => msg('pf', n)));
      await vi.waitFor(() => expect(held).toHaveLength(1), WAIT);
      await delay(300);
      expect(held).toHaveLength(1);
      held[0]!.ack();
      await vi.waitFor(() => expect(held).toHaveLength(2), WAIT);
      await delay(200);
      expect(held).toHaveLength(2);
      held[1]!.ack();
      await vi.waitFor(() => expect(held).toHaveLength(3), WAIT);
      held[2]!.ack();
      expect(held.map((d) => d.message.id)).toEqual(['m-0', 'm-1', 'm-2']);
    });

    it('resubscribes without losing a message', async () => {
      const q = queue('resub');
      const first = await bus();
      const seen = new Set<string>();
      const sub = await first.subscribe({ queue: q, bindings: ['resub'], prefetch: 5 }, async (d) => {
        seen.add(d.message.id);
        await delay(1);
      });
      await first.publishMany(range(300).map((n) => msg('resub', n)));
      await vi.waitFor(() => expect(seen.size).toBeGreaterThanOrEqual(50), WAIT);
      await sub.cancel();
      expect(sub.cancelled).toBe(true);
      await first.close();
      const second = await bus();
      await second.subscribe({ queue: q, bindings: ['resub'] }, (d) => {
        seen.add(d.message.id);
      });
      await vi.waitFor(() => expect(seen.size).toBe(300), WAIT);
    });

    it('closes concurrently: one shared close, later calls refused with ClosedError', async () => {
      const b = await bus();
      const q = queue('close');
      await b.subscribe({ queue: q, bindings: ['close'] }, async () => delay(5));
      const publishes = range(200).map((n) =>
        b.publish(msg('close', n)).then(
          () => 'ok' as const,
          (e) => e,
        ),
      );
      const closes = range(10).map(() => b.close());
      expect(new Set(closes).size).toBe(1);
      await Promise.all(closes);
      expect(b.closed).toBe(true);
      for (const outcome of await Promise.all(publishes)) {
        if (outcome !== 'ok') expect(isCtlplaneError(outcome, 'CLOSED')).toBe(true);
      }
      await expect(b.publish(msg('close', 1))).rejects.toMatchObject({ code: 'CLOSED' });
      await expect(b.subscribe({ queue: q }, () => {})).rejects.toMatchObject({ code: 'CLOSED' });
    });

    it('keeps the order of messages within a routing key', async () => {
      const b = await bus();
      const q = queue('order');
      const byKey = new Map<string, number[]>();
      await b.subscribe({ queue: q, bindings: ['order.*'], prefetch: 50 }, (d) => {
        const list = byKey.get(d.message.routingKey) ?? [];
        list.push((d.message.body as { n: number }).n);
        byKey.set(d.message.routingKey, list);
      });
      await b.publishMany(range(1_000).map((n) => msg(`order.k${n % 5}`, n)));
      await vi.waitFor(() => expect([...byKey.values()].flat()).toHaveLength(1_000), WAIT);
      for (const list of byKey.values()) expect(list).toEqual([...list].sort((a, c) => a - c));
    });

    it('isolates topics: each queue gets exactly what its patterns select', async () => {
      const b = await bus();
      const region = queue('region');
      const server = queue('server');
      const type = queue('type');
      const [r, s, t] = [recorder(), recorder(), recorder()];
      await b.subscribe({ queue: region, bindings: [regionPattern('nyc.1')] }, r.handler);
      await b.subscribe({ queue: server, bindings: [serverPattern('nyc.1', 'srv*3')] }, s.handler);
      await b.subscribe({ queue: type, bindings: [typePattern('droplet.create')] }, t.handler);
      const events = [
        { type: 'droplet.create', region: 'nyc.1', serverId: null },
        { type: 'droplet.create', region: 'nyc.1', serverId: 'srv*3' },
        { type: 'droplet.destroy', region: 'nyc.1', serverId: 'srv*3' },
        { type: 'droplet.create', region: 'nyc', serverId: '1' },
        { type: 'droplet', region: 'ams3', serverId: 'srv*3' },
        { type: 'droplet.create', region: 'ams3', serverId: '_' },
      ];
      await b.publishMany(events.map((e, n) => msg(eventRoutingKey(e), n)));
      await vi.waitFor(() => expect(r.ids.size + s.ids.size + t.ids.size).toBe(3 + 2 + 4), WAIT);
      await delay(200);
      expect([...r.ids].sort()).toEqual(['m-0', 'm-1', 'm-2']);
      expect([...s.ids].sort()).toEqual(['m-1', 'm-2']);
      expect([...t.ids].sort()).toEqual(['m-0', 'm-1', 'm-3', 'm-5']);
    });

    it('confirms 10,000 parallel publishes, then closes with none lost', async () => {
      const q = queue('bulk');
      const consumer = await bus();
      const seen = new Set<string>();
      await consumer.subscribe({ queue: q, bindings: ['bulk'], prefetch: 500 }, (d) => {
        seen.add(d.message.id);
      });
      const producer = await bus();
      const all = range(10_000).map((n) => producer.publish(msg('bulk', n)));
      const closed = producer.close();
      const outcomes = await Promise.allSettled(all);
      await closed;
      const confirmed = outcomes.filter((o) => o.status === 'fulfilled').length;
      expect(confirmed).toBe(10_000);
      await vi.waitFor(() => expect(seen.size).toBe(10_000), WAIT);
    });

    it('dead-letters a poison message after the delivery limit', async () => {
      const q = queue('poison');
      const b = await bus({ queues: [{ name: q, bindings: ['poison'], deliveryLimit: 3 }] });
      const attempts: number[] = [];
      const deadEvents: string[] = [];
      b.on('bus:dead-lettered', (e) => deadEvents.push(`${e.id}:${e.reason}`));
      await b.subscribe({ queue: q }, (d) => {
        if (d.message.id === 'm-2') return d.reject();
        attempts.push(d.message.deliveryCount);
        throw new Error('poison');
      });
      const dead = recorder();
      await b.subscribe({ queue: q, deadLetters: true }, dead.handler);
      await b.publish(msg('poison', 1));
      await b.publish(msg('poison', 2));
      await vi.waitFor(() => expect(dead.ids.size).toBe(2), WAIT);
      expect(attempts).toEqual([1, 2, 3]);
      expect(dead.messages.find((m) => m.id === 'm-1')).toMatchObject({
        body: { n: 1 },
        routingKey: 'poison',
      });
      expect(deadEvents.sort()).toEqual(['m-1:delivery-limit', 'm-2:rejected']);
    });

    it('deletes an expiring queue, messages included, once it has no consumer', async () => {
      const q = queue('expiring');
      const first = await bus();
      const sub = await first.subscribe({ queue: q, bindings: ['exp'], expiresMs: 1_000 }, () => {});
      await sub.cancel();
      await first.publish(msg('exp', 1));
      expect(await options.queueExists(q)).toBe(true);
      // RabbitMQ checks expiry on a timer of its own (about every 5 s for quorum queues).
      await vi.waitFor(async () => expect(await options.queueExists(q)).toBe(false), {
        timeout: 20_000,
        interval: 250,
      });
      const r = recorder();
      await first.subscribe({ queue: q, bindings: ['exp'], expiresMs: 1_000 }, r.handler);
      await first.publish(msg('exp', 2));
      await vi.waitFor(() => expect(r.ids.size).toBe(1), WAIT);
      await delay(100);
      expect([...r.ids]).toEqual(['m-2']);
    });

    it('confirms a message that matches no binding (and drops it)', async () => {
      const b = await bus();
      const q = queue('routed');
      const r = recorder();
      await b.subscribe({ queue: q, bindings: ['routed.*'] }, r.handler);
      await b.publish(msg('nowhere.at.all', 1));
      await b.publish(msg('routed.x', 2));
      await vi.waitFor(() => expect([...r.ids]).toEqual(['m-2']), WAIT);
    });

    it('refuses a message that breaks the rules, naming the field', async () => {
      const b = await bus();
      const bad = [
        { routingKey: 'k', body: { n: 1 }, headers: { 'x-delivery-count': 1 } },
        { routingKey: 'k'.repeat(300), body: 1 },
        { routingKey: 'k', body: { n: Number.NaN } },
      ] as OutgoingMessage[];
      for (const m of bad) await expect(b.publish(m)).rejects.toMatchObject({ code: 'VALIDATION' });
      await expect(b.subscribe({ queue: 'amq.nope' }, () => {})).rejects.toMatchObject({
        code: 'VALIDATION',
      });
    });

    it('refuses publishes to a full queue with a BusyError and keeps what it accepted', async () => {
      const q = queue('full');
      const b = await bus({ queues: [{ name: q, bindings: ['full'], maxLength: 5 }] });
      const outcomes: string[] = [];
      for (const n of range(8)) {
        outcomes.push(
          await b.publish(msg('full', n)).then(
            () => 'ok',
            (e: { code?: string }) => String(e.code),
          ),
        );
      }
      // RabbitMQ quorum queues take one message over x-max-length before refusing.
      const accepted = outcomes.indexOf('BUSY');
      expect(accepted).toBeGreaterThanOrEqual(5);
      expect(accepted).toBeLessThanOrEqual(6);
      expect(outcomes.slice(accepted).every((o) => o === 'BUSY')).toBe(true);
      const r = recorder();
      await b.subscribe({ queue: q }, r.handler);
      await vi.waitFor(() => expect(r.ids.size).toBe(accepted), WAIT);
      expect([...r.ids].sort()).toEqual(range(accepted).map((n) => `m-${n}`));
    });
  });
}
