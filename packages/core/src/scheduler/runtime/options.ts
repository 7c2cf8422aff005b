/**
 * Options of the scheduler, parsed once with zod into a frozen object with documented defaults.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { EventTypeMap } from '../../events/registry.js';
import type { Fleet } from '../../fleet/fleet.js';
import type { Resources } from '../../fleet/model.js';
import { ratiosSchema } from '../../fleet/schemas.js';
import type { Logger } from '../../logger.js';
import type { EventOf } from '../../store/event-store-types.js';
import { MAX_LEASE_MS, nameSchema, parseOrThrow } from '../../validation.js';
import type { MetricsSource, StalenessPolicy } from '../metrics/source.js';
import type { Filter, Strategy } from '../pipeline/types.js';
import type { SchedulerStore } from '../scheduler-store.js';
import type { RequestSpec } from './request-spec.js';

/** Options of the decision pipeline alone (what {@link SchedulerOptions} and dry runs share). */
export interface PipelineOptions {
  /** Ranking strategies with their weights (default: `[leastAllocated()]`). */
  strategies?: readonly Strategy[];
  /** Extra filters, run after the built-in state, region, capacity, labels (and staleness) filters. */
  filters?: readonly Filter[];
  /** Overcommit ratio per resource, e.g. `{ cpu: 4, memory: 1 }` (default 1 for every resource). */
  overcommit?: Resources;
  /** Live metrics for metric-based strategies and the staleness filter. */
  metrics?: MetricsSource;
  /** Staleness of metrics (default `{ maxAgeMs: 30_000, policy: 'penalise' }`). */
  staleness?: Partial<StalenessPolicy>;
  /** Choose randomly among the best `topK` candidates (default 1: always the best). */
  topK?: number;
  /** Feasible candidates scored exactly per request, spread over server shapes (default 6). */
  candidates?: number;
  /** Random extra candidates per request (default 2). */
  sample?: number;
  /** Servers examined per request before settling for what was found (default 4,096). */
  maxScan?: number;
  /**
   * Score points of noise, fixed per server and instance, added to the order in which servers are
   * looked at (default 0). With several instances placing into the same servers, 1–2 points make
   * each prefer different servers among near-equals, so they collide far less.
   */
  jitter?: number;
  /** Seed of the jitter (the scheduler passes its instance id). */
  seed?: string;
  /** Candidates listed in an explanation (default 5). */
  explainLimit?: number;
  /** Random source (default `Math.random`), for reproducible tests and benchmarks. */
  random?: () => number;
}

/** Options of {@link Scheduler}. */
export interface SchedulerOptions<M extends EventTypeMap> extends PipelineOptions {
  /**
   * Where pending events come from and placements are recorded: an `EventStore`, or Harpoon in
   * process or over HTTP (`HarpoonClient`), which needs no database connection in this process.
   */
  store: SchedulerStore<M>;
  /** The server inventory reservations are made in. */
  fleet: Fleet;
  /** Map an event to what it needs. Its result is validated. */
  request: (event: EventOf<M>) => RequestSpec;
  /** This instance's lease owner name (default `scheduler-<uuid>`). */
  instanceId?: string;
  /** Only events of these types (default all). */
  types?: readonly string[];
  /** Only events of this region (default all). */
  region?: string;
  /** Batches of claimed events placed at once on this instance's p-queue (default 4). */
  concurrency?: number;
  /** Events claimed per claim, placed as one batch (default 256). */
  claimBatch?: number;
  /** Events held (claimed, not yet placed or failed, retries included) at most (default 2,048). */
  maxInFlight?: number;
  /** Lease on claimed pending events (default 30,000 ms); renewed while retries wait. */
  leaseMs?: number;
  /** Tries of an event that fits nowhere, before it fails (default 5). */
  attempts?: number;
  /** Backoff between tries: first delay (default 250 ms) and ceiling (default 5,000 ms). */
  backoff?: { initialMs?: number; maxMs?: number };
  /** Lost reservations per try before backing off (default 8). */
  maxConflicts?: number;
  /** Reservations per fleet call (default 512). */
  reserveBatch?: number;
  /** Incremental refresh of the fleet view (default 1,000 ms); full refresh every `fullRefreshMs` (default 30,000). */
  refreshMs?: number;
  /** See `refreshMs`. */
  fullRefreshMs?: number;
  /** Wait between empty claims (default 250 ms; local appends wake the loop at once). */
  idlePollMs?: number;
  /** Logger (default: no-op). */
  logger?: Logger;
}

const int = (min: number, max: number, def: number) => z.number().int().min(min).max(max).default(def);

/** @internal */
export const pipelineSchema = z.object({
  overcommit: ratiosSchema.default({}),
  staleness: z
    .object({
      maxAgeMs: int(1, 86_400_000, 30_000),
      policy: z.enum(['exclude', 'penalise']).default('penalise'),
    })
    .strict()
    .default({ maxAgeMs: 30_000, policy: 'penalise' }),
  topK: int(1, 1_000, 1),
  candidates: int(1, 1_000_000, 6),
  sample: int(0, 10_000, 2),
  maxScan: int(1, 10_000_000, 4_096),
  explainLimit: int(1, 1_000, 5),
  jitter: z.number().min(0).max(50).default(0),
  seed: z.string().max(200).optional(),
});

/** @internal */
export const schedulerSchema = pipelineSchema.extend({
  instanceId: nameSchema.default(() => `scheduler-${randomUUID()}`),
  types: z.array(nameSchema).readonly().optional(),
  region: nameSchema.optional(),
  concurrency: int(1, 1_000, 4),
  claimBatch: int(1, 1_000, 256),
  maxInFlight: int(1, 1_000_000, 2_048),
  leaseMs: int(1_000, MAX_LEASE_MS, 30_000),
  attempts: int(1, 1_000, 5),
  backoff: z
    .object({ initialMs: int(1, 3_600_000, 250), maxMs: int(1, 3_600_000, 5_000) })
    .strict()
    .default({ initialMs: 250, maxMs: 5_000 }),
  maxConflicts: int(0, 1_000, 8),
  reserveBatch: int(1, 1_000, 512),
  refreshMs: int(10, 3_600_000, 1_000),
  fullRefreshMs: int(100, 86_400_000, 30_000),
  idlePollMs: int(1, 60_000, 250),
});

/** @internal Parse the plain-data part of the options. */
export function parseSchedulerOptions(rest: Record<string, unknown>): z.output<typeof schedulerSchema> {
  return Object.freeze(parseOrThrow(schedulerSchema.strict(), rest, 'Scheduler options'));
}
