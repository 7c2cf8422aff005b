/**
 * The smallest honest end-to-end run: events go into the in-memory store, are placed on servers,
 * claimed by a worker with a lease, and completed; the changes feed is followed throughout.
 */

import { MemoryEventStoreDriver } from '@ctlplane/adapters/memory';
import { defineEventTypes, EventStore } from '@ctlplane/core';
import { z } from 'zod';

const types = defineEventTypes({
  'droplet.create': z.object({
    vcpus: z.number().int().positive(),
    memoryMb: z.number().int().positive(),
    image: z.string(),
  }),
});
const store = new EventStore({ driver: new MemoryEventStoreDriver(), types });
const servers = ['hv-1', 'hv-2', 'hv-3'];

const seen = new Map<string, number>();
const follower = (async () => {
  for await (const page of store.follow(0, { pollMs: 50, signal: AbortSignal.timeout(2_000) })) {
    for (const e of page.events) seen.set(e.status, (seen.get(e.status) ?? 0) + 1);
  }
})();

const created = await store.append(
  Array.from({ length: 30 }, (_, i) => ({
    type: 'droplet.create' as const,
    payload: { vcpus: 1 + (i % 4), memoryMb: 1024, image: 'ubuntu-24.04' },
    region: 'nyc1',
    idempotencyKey: `req-${i}`,
  })),
);
for (const e of created) {
  await store.transition({
    id: e.id,
    from: 'pending',
    to: 'placed',
    serverId: servers[e.id % servers.length]!,
  });
}
for (const server of servers) {
  const work = await store.claim({ owner: `agent-${server}`, serverId: server, limit: 100, leaseMs: 30_000 });
  for (const e of work)
    await store.transition({ id: e.id, version: e.version, to: 'done', result: { ok: true } });
  console.log(`${server}: booted ${work.length} droplets`);
}
const done = await store.query({ status: 'done', limit: 1000 });
console.log(`done: ${done.events.length}/${created.length}`);
await follower;
console.log(`changes seen on the feed: ${JSON.stringify(Object.fromEntries(seen))}`);
await store.close();
