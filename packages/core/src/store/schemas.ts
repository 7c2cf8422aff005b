/**
 * zod schemas of everything a caller hands the EventStore. Parsed once, at the edge.
 *
 * @module
 */
import { z } from 'zod';
import { checkJson } from '../events/json-check.js';
import {
  DEFAULT_MAX_PAYLOAD_BYTES,
  jsonStringBytes,
  MAX_ERROR_BYTES,
  MAX_RESULT_BYTES,
} from '../events/limits.js';
import type { JsonValue } from '../events/model.js';
import { EVENT_STATUSES } from '../events/status.js';
import { traceContextSchema } from '../events/trace-context.js';
import {
  idSchema,
  MAX_LEASE_MS,
  nameSchema,
  regionSchema,
  serverIdSchema,
  typeNameSchema,
} from '../validation.js';

const statusSchema = z.enum(EVENT_STATUSES);
/**
 * @internal A list of statuses. Its bound comes first, so zod refuses an oversized list before
 * parsing its items (GHSA-mrhx-c7xc-m3w5: an unbounded list collects an issue per bad item).
 */
export const statusArraySchema = z.array(statusSchema).max(64);
const statusListSchema = z.union([statusSchema, statusArraySchema.readonly()]);

/** Shape of one event to append (the payload is checked by the type registry). */
export const newEventSchema = z
  .object({
    type: typeNameSchema,
    payload: z.unknown(),
    region: regionSchema,
    serverId: serverIdSchema.nullish(),
    idempotencyKey: nameSchema.nullish(),
    traceContext: traceContextSchema.nullish(),
  })
  .strict();

/** @internal Why a transition failed: bounded in bytes as JSON, length tested before measuring. */
export const transitionErrorSchema = z
  .string()
  .refine(
    (s) => s.length <= MAX_ERROR_BYTES && jsonStringBytes(s) <= MAX_ERROR_BYTES,
    `must be at most ${MAX_ERROR_BYTES} bytes as UTF-8 JSON`,
  );

/**
 * @internal What a transition's work produced: plain JSON of at most {@link MAX_RESULT_BYTES},
 * checked in one walk bounded by the limit, before anything copies the value.
 */
export const transitionResultSchema = z
  .unknown()
  .superRefine((v, ctx) => {
    const issue = v === undefined ? null : checkJson(v, 'result', { maxBytes: MAX_RESULT_BYTES }).issue;
    if (issue) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path.split('.').slice(1) });
  })
  .transform((v) => v as JsonValue);

/** Shape of a transition. */
export const transitionSchema = z
  .object({
    id: idSchema,
    to: statusSchema,
    version: z.number().int().nonnegative().optional(),
    from: statusListSchema.optional(),
    serverId: serverIdSchema.optional(),
    leaseOwner: nameSchema.optional(),
    error: transitionErrorSchema.optional(),
    result: transitionResultSchema.optional(),
  })
  .strict()
  .refine((t) => t.version !== undefined || t.from !== undefined, {
    message: 'give version or from: every transition is compare-and-set',
    path: ['version'],
  });

/** Shape of a claim. */
export const claimSchema = z
  .object({
    owner: nameSchema,
    limit: z.number().int().min(1, 'must be at least 1').max(1_000, 'must be at most 1,000'),
    leaseMs: z.number().int().min(1, 'must be at least 1 ms').max(MAX_LEASE_MS, 'must be at most one day'),
    status: z.enum(['pending', 'placed']).optional(),
    types: z.array(nameSchema).max(1_000).readonly().optional(),
    region: nameSchema.optional(),
    serverId: nameSchema.optional(),
  })
  .strict();

/** @internal Events per query page when the caller gives no `limit`. */
export const DEFAULT_QUERY_LIMIT = 100;
/** @internal Events per feed read when the caller gives no `limit`. */
export const DEFAULT_FEED_LIMIT = 500;

/** Shape of a query. */
export const querySchema = z
  .object({
    status: statusListSchema.optional(),
    type: nameSchema.optional(),
    serverId: nameSchema.optional(),
    region: nameSchema.optional(),
    limit: z.number().int().min(1).max(1_000).optional(),
    cursor: z
      .string()
      .regex(/^\d{1,16}$/, 'must be a cursor returned by a previous page')
      .nullish(),
  })
  .strict();

/** Shape of feed filters. */
export const feedFilterSchema = z
  .object({
    region: nameSchema.optional(),
    serverId: nameSchema.optional(),
    status: statusListSchema.optional(),
    limit: z.number().int().min(1).max(10_000).optional(),
  })
  .strict();

/** Options of every {@link EventStore}. */
export const storeOptionsSchema = z
  .object({
    maxPayloadBytes: z
      .number()
      .int()
      .positive()
      .max(16 * 1024 * 1024)
      .default(DEFAULT_MAX_PAYLOAD_BYTES),
    maxBatchSize: z.number().int().positive().max(10_000).default(5_000),
    maxQueuedWrites: z.number().int().min(1).max(1_000_000).default(10_000),
    retries: z.number().int().min(0).max(20).default(5),
  })
  .strict();
