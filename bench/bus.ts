/**
 * `npm run bench -- bus [messages] [rounds]`: publish-with-confirm throughput to a quorum queue on the local
 * RabbitMQ, raw amqplib (pipelined confirms, `drain` respected) against AmqpBus (publishMany and
 * concurrent single publishes), in one run. MemoryBus is measured alongside for reference.
 */
import { randomBytes } from 'node:crypto';
import { AmqpBus } from '@ctlplane/adapters/amqp';
import { MemoryBus } from '@ctlplane/adapters/memory';
import type { MessageBus, OutgoingMessage } from '@ctlplane/core';
import { type ChannelModel, connect } from 'amqplib';
import { table, writeReport } from './lib/report.js';

const url = process.env.CTLPLANE_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const total = Number(process.argv[2] ?? 30_000);
const rounds = Number(process.argv[3] ?? 3);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const tag = randomBytes(4).toString('hex');
const exchange = `ctl.bench.${tag}`;
const queue = `ctl.bench.${tag}.q`;
const body = {
  id: 0,
  type: 'droplet.create',
  region: 'nyc1',
  serverId: 'srv-1',
  payload: { vcpus: 2, image: 'ubuntu-24-04' },
};
const message = (n: number): OutgoingMessage => ({
  routingKey: 'evt.nyc1.srv-1.create',
  body: { ...body, id: n },
  id: `e${n}`,
});

async function purge(admin: ChannelModel): Promise<void> {
  const ch = await admin.createChannel();
  await ch.purgeQueue(queue);
  await ch.close();
}

/** Raw amqplib: one confirm channel, publish everything with a callback each, pause on drain. */
async function raw(admin: ChannelModel): Promise<number> {
  const ch = await admin.createConfirmChannel();
  const started = performance.now();
  let confirmed = 0;
  await new Promise<void>((resolve, reject) => {
    let n = 0;
    const pump = (): void => {
      while (n < total) {
        const m = message(n++);
        const ok = ch.publish(
          exchange,
          m.routingKey,
          Buffer.from(JSON.stringify(m.body)),
          { messageId: m.id, persistent: true },
          (err) => {
            if (err) return reject(err);
            if (++confirmed === total) resolve();
          },
        );
        if (!ok) return void ch.once('drain', pump);
      }
    };
    pump();
  });
  const seconds = (performance.now() - started) / 1000;
  await ch.close();
  return total / seconds;
}

/** A bus: publishMany in batches of `batch`, `concurrency` batches at a time. */
async function viaBus(bus: MessageBus, batch: number, concurrency: number): Promise<number> {
  let next = 0;
  const started = performance.now();
  const worker = async (): Promise<void> => {
    while (next < total) {
      const from = next;
      next += batch;
      const size = Math.min(batch, total - from);
      if (batch === 1) await bus.publish(message(from));
      else await bus.publishMany(Array.from({ length: size }, (_, i) => message(from + i)));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return total / ((performance.now() - started) / 1000);
}

async function main(): Promise<void> {
  const admin = await connect(url);
  admin.on('error', () => {});
  const topology = { exchange, queues: [{ name: queue, bindings: ['evt.#'], maxLength: 10_000_000 }] };
  const bus = new AmqpBus({ urls: url, topology, maxBufferedMessages: 200_000 });
  await bus.ready();
  const rows: (string | number)[][] = [];
  const metrics: Record<string, number> = {};
  try {
    // Warm up once, then interleave the variants over several rounds (on an empty queue each
    // time) and keep each one's median, so that load from elsewhere hits them alike.
    await viaBus(bus, 500, 4);
    const runs: Record<string, number[]> = { raw: [], many: [], single: [] };
    for (let round = 0; round < rounds; round++) {
      await purge(admin);
      runs.raw!.push(await raw(admin));
      await purge(admin);
      runs.many!.push(await viaBus(bus, 1_000, 20));
      await purge(admin);
      runs.single!.push(await viaBus(bus, 1, 5_000));
    }
    await purge(admin);
    metrics.raw_amqp_eps = median(runs.raw!);
    metrics.bus_publish_many_eps = median(runs.many!);
    metrics.bus_publish_eps = median(runs.single!);
    const memory = new MemoryBus({ topology });
    metrics.memory_publish_many_eps = await viaBus(memory, 1_000, 20);
    await memory.close();
  } finally {
    await bus.deleteQueue(queue).catch(() => {});
    await bus.close();
    const ch = await admin.createChannel();
    await ch.deleteExchange(exchange);
    await ch.deleteExchange(`${exchange}.dead-letter`);
    await admin.close();
  }
  metrics.messages = total;
  metrics.rounds = rounds;
  metrics.bus_vs_raw_ratio = metrics.bus_publish_many_eps! / metrics.raw_amqp_eps!;
  rows.push(['raw amqplib, every message in flight (baseline)', Math.round(metrics.raw_amqp_eps!), 1]);
  rows.push([
    'AmqpBus.publishMany, 20 batches of 1,000 in flight',
    Math.round(metrics.bus_publish_many_eps!),
    metrics.bus_vs_raw_ratio,
  ]);
  rows.push([
    'AmqpBus.publish, 5,000 concurrent callers',
    Math.round(metrics.bus_publish_eps!),
    metrics.bus_publish_eps! / metrics.raw_amqp_eps!,
  ]);
  rows.push([
    'MemoryBus.publishMany (no broker, reference)',
    Math.round(metrics.memory_publish_many_eps!),
    Number.NaN,
  ]);
  writeReport({
    name: 'bus',
    title: 'MessageBus: confirmed publishes to a quorum queue',
    body: [
      `${total.toLocaleString('en-US')} JSON messages (~150 bytes) per run to one durable quorum queue on the local RabbitMQ, each confirmed by the broker; the variants are interleaved over ${rounds} rounds and each row is its median.`,
      '',
      table(
        ['publisher', 'messages/s', 'vs raw'],
        rows.map((r) => r.map((v) => (typeof v === 'number' && Number.isNaN(v) ? '–' : v))),
      ),
    ].join('\n'),
    metrics,
  });
}

await main();
