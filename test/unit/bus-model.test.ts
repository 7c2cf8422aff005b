import { type BusMessage, deadLetterQueueName } from '@ctlplane/core';
import {
  BusDelivery,
  prepareMessage,
  prepareMessages,
  queueForSubscribe,
  resolveTopology,
  runHandler,
  type Settlement,
} from '@ctlplane/core/driver';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
// Internal to core (not exported from any entry point): the bus's fast check and its schema.
import { isCertainlyValid } from '../../packages/core/src/bus/quick-validate.js';
import { outgoingMessageSchema } from '../../packages/core/src/bus/schemas.js';

const message: BusMessage = {
  id: 'm-1',
  routingKey: 'k',
  body: null,
  headers: {},
  timestamp: 0,
  redelivered: false,
  deliveryCount: 1,
};

function delivery() {
  const settled: Settlement[] = [];
  return { settled, d: new BusDelivery(message, 'q', (s) => settled.push(s)) };
}

describe('topology', () => {
  it('applies documented defaults', () => {
    const t = resolveTopology({ queues: [{ name: 'q', bindings: ['a.#', 'a.#'] }] });
    expect(t).toMatchObject({
      exchange: 'ctlplane.events',
      deadLetterExchange: 'ctlplane.events.dead-letter',
    });
    expect(t.queues[0]).toEqual({
      name: 'q',
      bindings: ['a.#'],
      deliveryLimit: 5,
      maxLength: 1_000_000,
      overflow: 'reject-publish',
      deadLetterQueue: deadLetterQueueName('q'),
      expiresMs: null,
    });
  });

  it('gives an expiring queue no dead-letter queue, and refuses asking for one', () => {
    const [q] = resolveTopology({ queues: [{ name: 'q', expiresMs: 5_000 }] }).queues;
    expect(q).toMatchObject({ expiresMs: 5_000, deadLetterQueue: null });
    expect(() => resolveTopology({ queues: [{ name: 'q', expiresMs: 5_000, deadLetter: true }] })).toThrow(
      /queues\.0\.deadLetter: an expiring queue has no dead-letter queue/,
    );
    expect(() => resolveTopology({ queues: [{ name: 'q', expiresMs: 10 }] })).toThrow(/queues\.0\.expiresMs/);
  });

  it('names the bad field, and refuses a queue listed twice', () => {
    expect(() => resolveTopology({ queues: [{ name: 'q', deliveryLimit: 0 }] })).toThrow(
      /queues\.0\.deliveryLimit/,
    );
    expect(() => resolveTopology({ exchange: 'amq.topic' })).toThrow(/exchange: must not start with amq\./);
    expect(() => resolveTopology({ queues: [{ name: 'q' }, { name: 'q' }] })).toThrow(
      expect.objectContaining({ code: 'CONFLICT' }),
    );
  });

  it('adds a subscribe’s bindings to a declared queue but refuses another delivery limit', () => {
    const [q] = resolveTopology({ queues: [{ name: 'q', bindings: ['a'], deliveryLimit: 3 }] }).queues;
    expect(queueForSubscribe(q, { queue: 'q', bindings: ['b'] }).bindings).toEqual(['a', 'b']);
    expect(() => queueForSubscribe(q, { queue: 'q', bindings: [], deliveryLimit: 4 })).toThrow(
      expect.objectContaining({ code: 'CONFLICT' }),
    );
    expect(queueForSubscribe(undefined, { queue: 'n', bindings: [], deliveryLimit: 2 })).toMatchObject({
      name: 'n',
      deliveryLimit: 2,
    });
  });
});

describe('prepareMessage', () => {
  it('fills id and timestamp and encodes the body once', () => {
    const m = prepareMessage({ routingKey: 'k', body: { a: [1, 'x'] } }, 1024);
    expect(m.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Math.abs(m.timestamp - Date.now())).toBeLessThan(5_000);
    expect(JSON.parse(m.content.toString())).toEqual({ a: [1, 'x'] });
  });

  it('refuses broker headers, oversized bodies and non-JSON values, naming the field', () => {
    expect(() => prepareMessage({ routingKey: 'k', body: 1, headers: { 'X-Death': 'x' } }, 1024)).toThrow(
      /headers\.X-Death: must not start with x-/,
    );
    expect(() => prepareMessage({ routingKey: 'k', body: 'x'.repeat(2_000) }, 1024)).toThrow(
      /1024-byte limit/,
    );
    expect(() =>
      prepareMessages(
        [
          { routingKey: 'k', body: 1 },
          { routingKey: 'k', body: { d: new Date() } as never },
        ],
        1024,
      ),
    ).toThrow(/message \[1\]/);
    expect(() =>
      prepareMessage({ routingKey: 'k', body: 1, headers: { h: Number.POSITIVE_INFINITY } }, 1024),
    ).toThrow(/headers\.h/);
  });
});

describe('the quick publish check', () => {
  it('never accepts what the schema refuses', () => {
    const key = fc.oneof(fc.string({ maxLength: 90 }), fc.string({ unit: 'binary', maxLength: 90 }));
    const message = fc.record(
      {
        routingKey: fc.oneof(key, fc.anything()),
        body: fc.oneof(fc.jsonValue(), fc.anything()),
        headers: fc.dictionary(
          fc.oneof(fc.string({ maxLength: 70 }), fc.constantFrom('x-a', 'X-b')),
          fc.oneof(fc.string({ maxLength: 120 }), fc.double(), fc.boolean(), fc.anything()),
          { maxKeys: 70 },
        ),
        id: fc.oneof(key, fc.anything()),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.oneof(message, fc.anything()), (m) => {
        if (isCertainlyValid(m)) expect(outgoingMessageSchema.safeParse(m).success).toBe(true);
      }),
      { numRuns: 1_000 },
    );
    expect(isCertainlyValid({ routingKey: 'evt.a.b.c', body: { a: [1, null, 'x'] }, id: 'e1' })).toBe(true);
  });
});

describe('BusDelivery and runHandler', () => {
  it('settles once: the first call wins', () => {
    const { d, settled } = delivery();
    d.nack();
    d.ack();
    d.reject();
    expect(settled).toEqual(['requeue']);
    expect(d.settled).toBe(true);
    const other = delivery();
    other.d.nack({ requeue: false });
    expect(other.settled).toEqual(['dead-letter']);
  });

  it('acks on return, requeues on throw, and leaves the handler’s own settlement alone', async () => {
    const errors: Error[] = [];
    const cases: [(d: BusDelivery) => unknown, boolean, Settlement[]][] = [
      [() => {}, true, ['ack']],
      [() => {}, false, []],
      [
        async () => {
          throw new Error('boom');
        },
        true,
        ['requeue'],
      ],
      [
        (d) => {
          d.reject();
          throw new Error('after reject');
        },
        true,
        ['dead-letter'],
      ],
    ];
    for (const [handler, autoAck, expected] of cases) {
      const { d, settled } = delivery();
      await runHandler(d, handler as never, autoAck, (e) => errors.push(e));
      expect(settled).toEqual(expected);
    }
    expect(errors.map((e) => e.message)).toEqual(['boom']);
  });
});
