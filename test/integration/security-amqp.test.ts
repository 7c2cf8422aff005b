/**
 * AMQP message bodies from other producers, under fuzzing, on RabbitMQ: garbage bytes, non-JSON,
 * odd properties and headers into an AmqpBus consumer, and bodies that are not changed events into
 * the router's BusInput. Each is dead-lettered (malformed) or reported, the handler never sees a
 * non-JSON body, nothing moves in the router, and a good message still goes through.
 */
import { randomBytes } from 'node:crypto';
import { AmqpBus } from '@ctlplane/adapters/amqp';
import { MemoryEventStoreDriver } from '@ctlplane/adapters/memory';
import {
  Agent,
  AgentKeyring,
  BusInput,
  EventRouter,
  EventStore,
  eventRoutingKey,
  InProcessTransport,
  toWireEvent,
} from '@ctlplane/core';
import { type Channel, type ChannelModel, connect, type Options } from 'amqplib';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { create, type TestSchemas, testTypes } from '../contract/event-store.fixtures.js';
import { describeWith } from '../support/requires.js';
import { amqpUrl } from '../support/services.js';
import { garbageBytes, hostileJson, hostileString } from './fixtures/security-arbitraries.js';
import { notAChange } from './fixtures/security-bus.js';
import { fuzzParams, Tally, until } from './fixtures/security-kit.js';

const CONSUMER_RUNS = 300;
const ROUTER_RUNS = 150;

// amqplib refuses (client side) integers beyond int64 and header tables over 64 KiB.
const headerValue = fc.oneof(
  hostileString.filter((s) => s.length < 1_000),
  fc.integer(),
  fc.double({ min: -1e6, max: 1e6, noNaN: true }),
  fc.boolean(),
  fc.constant(null),
  fc.constant({ nested: { deeper: 1 } }),
  fc.constant([1, 'two', true]),
);
/** Headers of every kind, forged broker headers (`x-death`, `x-delivery-count`…) included. */
const headers = fc.dictionary(
  fc.oneof(
    fc.constantFrom('x-death', 'x-delivery-count', 'x-first-death-queue', 'content-type'),
    fc.string({ maxLength: 12 }),
  ),
  headerValue,
  { maxKeys: 4 },
);
const rawMessage = fc.record({
  content: fc.oneof(
    { weight: 3, arbitrary: garbageBytes.map((b) => Buffer.from(b)) },
    { weight: 2, arbitrary: hostileString.map((s) => Buffer.from(s, 'utf8')) },
    { weight: 3, arbitrary: hostileJson.map((v) => Buffer.from(JSON.stringify(v) ?? 'null')) },
    { weight: 1, arbitrary: fc.constant(Buffer.alloc(0)) },
  ),
  properties: fc.record(
    {
      contentType: fc.constantFrom('application/json', 'text/plain', 'application/octet-stream', ''),
      messageId: fc.oneof(
        hostileString.filter((s) => Buffer.byteLength(s) < 255),
        fc.constant(''),
      ),
      timestamp: fc.integer({ min: 0, max: 2 ** 31 }),
      headers,
    },
    { requiredKeys: [] },
  ),
});

const isJson = (b: Buffer): boolean => {
  try {
    JSON.parse(b.toString('utf8'));
    return true;
  } catch {
    return false;
  }
};

describeWith('amqp', 'AMQP message bodies under fuzzing (RabbitMQ)', () => {
  const tag = randomBytes(4).toString('hex');
  const exchange = `ctl.secfz.${tag}`;
  const queues = [`secfz.consumer.${tag}`, `secfz.router.${tag}`, `secfz.xdeath.${tag}`];
  let admin: ChannelModel;
  let ch: Channel;
  let bus: AmqpBus;

  beforeAll(async () => {
    admin = await connect(amqpUrl());
    admin.on('error', () => {});
    ch = await admin.createChannel();
    ch.on('error', () => {});
    bus = new AmqpBus({ urls: amqpUrl(), topology: { exchange }, connectionName: 'ctlplane-security-fuzz' });
    await bus.ready();
  });
  afterAll(async () => {
    await bus?.close();
    for (const q of queues)
      for (const name of [q, `${q}.dead-letter`]) await ch.deleteQueue(name).catch(() => {});
    for (const name of [exchange, `${exchange}.dead-letter`]) await ch.deleteExchange(name).catch(() => {});
    await admin?.close().catch(() => {});
  });

  const publishRaw = (routingKey: string, content: Buffer, properties: Options.Publish) =>
    ch.publish(exchange, routingKey, content, { ...properties, persistent: true });
  /** Messages in a queue's dead-letter queue (own channel: a failed check closes a channel). */
  const deadLetters = async (queue: string): Promise<number> => {
    const c = await admin.createChannel();
    c.on('error', () => {});
    try {
      return (await c.checkQueue(`${queue}.dead-letter`)).messageCount;
    } finally {
      await c.close().catch(() => {});
    }
  };

  it(`dead-letters ${CONSUMER_RUNS} malformed messages from other producers; handlers see only JSON`, async () => {
    const queue = queues[0]!;
    const seen: string[] = [];
    let malformed = 0;
    bus.on('bus:dead-lettered', (e) => {
      if (e.queue === queue && e.reason === 'malformed') malformed++;
    });
    await bus.subscribe({ queue, bindings: ['fz.#'] }, (d) => {
      seen.push(JSON.stringify(d.message.body));
    });
    const tally = new Tally('AmqpBus consumer, raw messages (RabbitMQ)');
    let json = 0;
    await fc.assert(
      fc.asyncProperty(rawMessage, async (m) => {
        publishRaw('fz.raw', m.content, m.properties as Options.Publish);
        if (isJson(m.content)) json++;
        tally.add(isJson(m.content) ? 'JSON: handled' : 'not JSON: dead-lettered');
      }),
      fuzzParams(CONSUMER_RUNS),
    );
    await until(() => seen.length + malformed >= tally.total, 'every raw message settled', 30_000);
    tally.print();
    expect(seen).toHaveLength(json);
    expect(malformed).toBe(tally.total - json);
    // Kept for inspection, not lost: every malformed message sits in the dead-letter queue.
    await until(async () => (await deadLetters(queue)) === malformed, 'every malformed message kept');
    // Still consuming: a message published through the bus arrives.
    await bus.publish({ routingKey: 'fz.ok', body: { ok: tag } });
    await until(() => seen.includes(JSON.stringify({ ok: tag })), 'a good message after the fuzz');
  });

  it(`reports ${ROUTER_RUNS} bodies that are not changed events to the router, which keeps routing`, async () => {
    const keyring = new AgentKeyring({
      keys: [{ kid: 'k1', secret: 'amqp-fuzz-signing-key-0123456789abcdef' }],
    });
    const store = new EventStore({ driver: new MemoryEventStoreDriver(), types: testTypes });
    const router = new EventRouter({
      store,
      region: 'r1',
      auth: keyring,
      input: new BusInput({ bus, queue: queues[1]! }),
    });
    const transport = new InProcessTransport();
    await router.listen(transport.server('r1'));
    const ran = new Set<number>();
    const agent = new Agent<TestSchemas>({
      serverId: 'good',
      token: keyring.sign({ serverId: 'good', region: 'r1' }),
      urls: ['inproc://r1'],
      connector: transport,
      handlers: { 'droplet.create': (e) => void ran.add(e.id) },
    });
    await agent.start();
    const errors: Error[] = [];
    router.on('router:input:error', (e) => errors.push(e.error));
    try {
      const before = router.stats();
      const key = eventRoutingKey({ type: 'droplet.create', region: 'r1', serverId: 'fz' });
      const tally = new Tally('router BusInput, raw messages (RabbitMQ)');
      await fc.assert(
        fc.asyncProperty(fc.oneof(notAChange('r1'), garbageBytes), async (body) => {
          const content =
            body instanceof Uint8Array ? Buffer.from(body) : Buffer.from(JSON.stringify(body) ?? 'null');
          publishRaw(key, content, { contentType: 'application/json', messageId: `fz:${tally.total}` });
          tally.add(isJson(content) ? 'reported to the router' : 'dead-lettered by the bus');
        }),
        fuzzParams(ROUTER_RUNS),
      );
      await until(
        () => errors.length >= tally.count('reported to the router'),
        'every bad change reported',
        30_000,
      );
      tally.print();
      expect(errors).toHaveLength(tally.count('reported to the router'));
      const after = router.stats();
      expect(after.cursor).toBe(before.cursor);
      expect(after.openEvents).toEqual(before.openEvents);
      const [e] = await store.append([create(1, { region: 'r1', serverId: 'good' })]);
      await bus.publish({ routingKey: eventRoutingKey(e!), body: toWireEvent(e!), id: `event:${e!.id}:v1` });
      await until(() => ran.has(e!.id), 'a real change delivered after the fuzz');
    } finally {
      await agent.stop();
      await router.close();
      await store.close();
    }
  });

  it('regression(rabbitmq-x-death): a malformed message whose x-death header is a list of non-tables is dead-lettered, not dropped', async () => {
    // Found by fuzzing: RabbitMQ 3.10.8 crashes the queue process in
    // rabbit_dead_letter:update_x_death_header (function_clause) when it dead-letters such a
    // message; the message was lost, and so could be others the queue held in memory then.
    const queue = queues[2]!;
    let malformed = 0;
    bus.on('bus:dead-lettered', (e) => {
      if (e.queue === queue && e.reason === 'malformed') malformed++;
    });
    await bus.subscribe({ queue, bindings: ['xd.#'] }, () => {});
    publishRaw('xd.raw', Buffer.from('not json'), { headers: { 'x-death': [1, 'two'] } });
    publishRaw('xd.raw', Buffer.from('not json either'), {});
    await until(() => malformed === 2, 'both rejected by the consumer');
    await until(async () => (await deadLetters(queue)) >= 1, 'the plain one dead-lettered');
    await new Promise((r) => setTimeout(r, 500));
    expect(await deadLetters(queue)).toBe(2);
  });
});
