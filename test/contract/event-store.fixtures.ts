import { defineEventTypes, type EventStore } from '@ctlplane/core';
import type { EventStoreDriver } from '@ctlplane/core/driver';
import { z } from 'zod';

const schemas = {
  'droplet.create': z.object({
    vcpus: z.number().int().positive(),
    memoryMb: z.number().int().positive(),
    image: z.string().min(1),
  }),
  'droplet.destroy': z.object({ dropletId: z.string() }),
  blob: z.object({ data: z.string(), nested: z.unknown().optional() }),
};

/** The event types every EventStore contract test registers. */
export const testTypes = defineEventTypes(schemas);

/** The test event types' schemas. */
export type TestSchemas = typeof schemas;

/** An EventStore over the test types. */
export type TestStore = EventStore<typeof schemas>;

/** A store under test plus its teardown. */
export interface StoreHandle {
  store: TestStore;
  driver: EventStoreDriver;
  /** A second store on the same data (another process's view), when the backend supports it. */
  peer?: () => Promise<TestStore>;
  cleanup: () => Promise<void>;
}

/** Creates a fresh, empty store for one test. */
export type MakeStore = () => Promise<StoreHandle>;

/** A valid `droplet.create` event in region `r`. */
export const create = (i: number, extra: Record<string, unknown> = {}) => ({
  type: 'droplet.create' as const,
  payload: { vcpus: 1 + (i % 8), memoryMb: 1024, image: 'ubuntu-24.04' },
  region: 'nyc1',
  ...extra,
});
