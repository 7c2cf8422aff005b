/**
 * The droplet cloud's reconciler gives a droplet's reservation back when the droplet goes away, and
 * retires its key so that a scheduler waking up late with an old claim cannot reserve it again.
 */
import { MemoryFleetDriver } from '@ctlplane/adapters/memory';
import { Fleet, type StoredEvent } from '@ctlplane/core';
import { describe, expect, it } from 'vitest';
import { releaseFor } from '../../packages/examples/src/droplet-cloud/reconciler.js';

const event = (over: Partial<StoredEvent>): StoredEvent => ({
  id: 7,
  type: 'droplet.create',
  payload: {},
  region: 'nyc1',
  serverId: null,
  status: 'pending',
  attempts: 1,
  leaseOwner: null,
  leaseExpiresAt: null,
  idempotencyKey: null,
  traceContext: null,
  error: null,
  result: null,
  version: 1,
  seq: 1,
  createdAt: new Date(0),
  updatedAt: new Date(0),
  ...over,
});

describe('releaseFor', () => {
  it('frees a failed or cancelled create (retired up to its last claim) and a done destroy', () => {
    expect(releaseFor(event({ status: 'failed', attempts: 3 }))).toEqual({ key: '7', fence: 3 });
    expect(releaseFor(event({ status: 'cancelled', attempts: 1 }))).toEqual({ key: '7', fence: 1 });
    const destroy = { id: 9, type: 'droplet.destroy', payload: { dropletId: 7 } } as const;
    expect(releaseFor(event({ ...destroy, status: 'done' }))).toEqual({ key: '7' });
    expect(releaseFor(event({ ...destroy, status: 'running' }))).toBeNull();
    expect(releaseFor(event({ status: 'done' }))).toBeNull();
    expect(releaseFor(event({ ...destroy, status: 'done', payload: { dropletId: 'x' } }))).toBeNull();
  });

  it('retires the key of a create that failed before any claim reserved it', async () => {
    const fleet = new Fleet({ driver: new MemoryFleetDriver() });
    const [hv] = await fleet.upsert([{ id: 'hv', region: 'nyc1', capacity: { cpu: 8 } }]);
    // Claim 2 found no room and failed the create; claim 1, paused until now, finds room.
    const input = releaseFor(event({ status: 'failed', attempts: 2 }))!;
    expect(await fleet.release([input])).toEqual([{ ok: false, key: '7', reason: 'not_found' }]);
    const late = { key: '7', serverId: 'hv', generation: hv!.generation, demand: { cpu: 1 }, fence: 1 };
    expect(await fleet.reserve([late])).toMatchObject([{ ok: false, reason: 'fenced' }]);
    expect(await fleet.allocations()).toEqual([]);
  });
});
