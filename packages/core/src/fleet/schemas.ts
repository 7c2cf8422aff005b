/**
 * zod schemas of everything a caller hands the fleet, parsed once at the edge. Resource and group
 * names are restricted to characters that are safe inside a quoted JSON path, so backends can use
 * them in queries without escaping.
 *
 * @module
 */
import { z } from 'zod';
import { nameSchema, regionSchema, serverIdSchema } from '../validation.js';
import { SERVER_STATES } from './model.js';

/** @internal Resource names. */
export const RESOURCE_NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;
/** @internal Group names. */
export const GROUP_NAME = /^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,127}$/;

/** A resource name: `cpu`, `memory_mib`, `nvidia.com-gpu`. */
export const resourceNameSchema = z
  .string()
  .regex(
    RESOURCE_NAME,
    'must start with a letter and use only letters, digits, "_", "." or "-" (at most 64)',
  );

/** An anti-affinity group name. */
export const groupNameSchema = z
  .string()
  .regex(GROUP_NAME, 'must use only letters, digits, "_", ".", ":", "/" or "-" (at most 128)');

/** @internal Most resources a capacity, a demand or a set of ratios may name. */
export const MAX_RESOURCES = 32;

/** Amounts per resource: non-negative safe integers. */
export const resourcesSchema = z
  .record(
    resourceNameSchema,
    z.number().int('must be an integer (use millicores, MiB, …)').nonnegative().max(Number.MAX_SAFE_INTEGER),
  )
  .refine((r) => Object.keys(r).length <= MAX_RESOURCES, `must name at most ${MAX_RESOURCES} resources`);

/** Overcommit ratios per resource: positive, at most 1,000. */
export const ratiosSchema = z
  .record(resourceNameSchema, z.number().positive('must be positive').max(1_000, 'must be at most 1,000'))
  .refine((r) => Object.keys(r).length <= MAX_RESOURCES, `must name at most ${MAX_RESOURCES} resources`);

/**
 * @internal Label keys: 1 to 128 characters, none a control character. Lengths count Unicode code
 * points, in the regular expression itself, so the rule does not depend on how the installed zod
 * measures strings, and the scheduler's fast check uses the very same expression.
 */
export const LABEL_KEY = /^[^\p{Cc}]{1,128}$/u;
/** @internal Label values: at most 191 characters (code points), none a control character. */
export const LABEL_VALUE = /^[^\p{Cc}]{0,191}$/u;
/** @internal Most labels on a server or in a request. */
export const MAX_LABELS = 64;

/** Labels: short printable keys and values. */
export const labelsSchema = z
  .record(
    z.string().regex(LABEL_KEY, 'must be 1 to 128 characters, with no control characters'),
    z.string().regex(LABEL_VALUE, 'must be at most 191 characters, with no control characters'),
  )
  .refine((l) => Object.keys(l).length <= MAX_LABELS, `must have at most ${MAX_LABELS} labels`);

/** A server state. */
export const serverStateSchema = z.enum(SERVER_STATES);

/** Shape of a server to register. */
export const serverInputSchema = z
  .object({
    id: serverIdSchema,
    region: regionSchema,
    capacity: resourcesSchema,
    labels: labelsSchema.default({}),
    state: serverStateSchema.default('active'),
  })
  .strict();

/** Shape of a reservation. */
export const reserveInputSchema = z
  .object({
    key: nameSchema,
    serverId: nameSchema,
    generation: z.number().int().nonnegative(),
    demand: resourcesSchema,
    ratios: ratiosSchema.optional(),
    group: groupNameSchema.nullish(),
    fence: z.number().int().nonnegative().nullish(),
  })
  .strict();

/** Shape of a release: a key, or a key with a fence. */
export const releaseInputSchema = z.union([
  nameSchema,
  z.object({ key: nameSchema, fence: z.number().int().nonnegative().nullish() }).strict(),
]);

/** Arguments of `Fleet.pruneReleased`. */
export const pruneReleasedSchema = z
  .object({
    retentionMs: z.number().int().positive(),
    limit: z.number().int().positive().max(1_000_000),
  })
  .strict();

/** Shape of a server query. */
export const serverQuerySchema = z
  .object({
    region: nameSchema.optional(),
    state: z.union([serverStateSchema, z.array(serverStateSchema).readonly()]).optional(),
    updatedSince: z.date().optional(),
  })
  .strict();

/** Shape of an allocation query. */
export const allocationQuerySchema = z
  .object({
    serverId: nameSchema.optional(),
    keys: z.array(nameSchema).max(10_000).readonly().optional(),
  })
  .strict();

/** Options of the {@link Fleet} wrapper. */
export const fleetOptionsSchema = z
  .object({
    retries: z.number().int().min(0).max(20).default(5),
    maxBatchSize: z.number().int().positive().max(10_000).default(1_000),
  })
  .strict();
