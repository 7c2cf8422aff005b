/**
 * The droplet cloud's event types and droplet sizes.
 */
import { defineEventTypes, type EventOf, type RequestSpec } from '@ctlplane/core';
import { z } from 'zod';

/** Droplet sizes: what each asks of a hypervisor (vCPUs, MiB). */
export const SIZES = {
  's-1vcpu-1gb': { cpu: 1, memory: 1_024 },
  's-2vcpu-4gb': { cpu: 2, memory: 4_096 },
  's-4vcpu-8gb': { cpu: 4, memory: 8_192 },
  'g-8vcpu-32gb': { cpu: 8, memory: 32_768 },
  'm-16vcpu-128gb': { cpu: 16, memory: 131_072 },
} as const;

/** A size slug. */
export type SizeSlug = keyof typeof SIZES;
const SLUGS = Object.keys(SIZES) as [SizeSlug, ...SizeSlug[]];

const schemas = {
  'droplet.create': z.object({
    name: z.string().min(1).max(64),
    size: z.enum(SLUGS),
    image: z.string().min(1).max(100),
  }),
  'droplet.destroy': z.object({ dropletId: z.number().int().positive() }),
};

/** The event type map of the droplet cloud. */
export type DropletTypes = typeof schemas;
/** The registry every component validates payloads with. */
export const dropletTypes = defineEventTypes(schemas);
/** A stored droplet event. */
export type DropletEvent = EventOf<DropletTypes>;

/** What a droplet event asks of a hypervisor (the scheduler's `request` option). */
export function requestOf(event: DropletEvent): RequestSpec {
  if (event.type !== 'droplet.create') throw new Error(`${event.type} events are not scheduled`);
  return { demand: SIZES[event.payload.size] };
}
