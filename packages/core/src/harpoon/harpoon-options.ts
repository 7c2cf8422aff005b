/**
 * Options of Harpoon, parsed once into a frozen object with documented defaults.
 *
 * @module
 */
import { z } from 'zod';

const batch = (maxBatch: number) =>
  z
    .object({
      maxBatch: z.number().int().min(1).max(5_000).default(maxBatch),
      lingerMs: z.number().min(0).max(1_000).default(2),
      concurrency: z.number().int().min(1).max(64).default(2),
    })
    .strict()
    .default({ maxBatch, lingerMs: 2, concurrency: 2 });

/** @internal */
export const harpoonOptionsSchema = z
  .object({
    creates: batch(500),
    transitions: batch(500),
    maxPending: z.number().int().min(1).max(1_000_000).default(10_000),
    relay: z
      .union([
        z.literal(false),
        z
          .object({
            name: z.string().min(1).max(191).default('harpoon'),
            batchSize: z.number().int().min(1).max(10_000).default(500),
            pollMs: z.number().int().min(1).max(60_000).default(50),
            maxInFlight: z.number().int().min(1).max(64).default(4),
          })
          .strict(),
      ])
      .default({ name: 'harpoon', batchSize: 500, pollMs: 50, maxInFlight: 4 }),
    prune: z
      .object({
        retentionMs: z.number().int().positive(),
        intervalMs: z.number().int().positive().default(60_000),
      })
      .strict()
      .optional(),
  })
  .strict();

/** Group-commit settings of one request kind. */
export interface BatchOptions {
  /** Most requests per transaction (default 500). */
  maxBatch?: number;
  /** How long the first request waits for company, ms (default 2). */
  lingerMs?: number;
  /** Transactions in flight at once (default 2). */
  concurrency?: number;
}

/** Outbox relay settings. */
export interface RelaySettings {
  /** Cursor name (default `harpoon`). */
  name?: string;
  /** Changes per publish round (default 500). */
  batchSize?: number;
  /** Poll interval for other processes' commits, ms (default 50). */
  pollMs?: number;
  /** Publish rounds awaiting confirms at once (default 4). */
  maxInFlight?: number;
}
