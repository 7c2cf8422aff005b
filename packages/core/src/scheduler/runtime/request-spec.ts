/**
 * The request an event maps to (the scheduler's `request` option), validated for every event it
 * claims. A fast check accepts well-formed plain data without zod, which copies what it parses;
 * anything else goes through `requestSpecSchema`, which owns the rules and the messages. The fast
 * check never accepts what zod refuses, and on plain data (what `request` functions return) it
 * accepts exactly what zod accepts: test/unit/scheduler-request-spec.test.ts holds the two together
 * with a property test, as the bus's `isCertainlyValid` is held to its schema.
 *
 * @module
 */
import { z } from 'zod';
import type { Resources } from '../../fleet/model.js';
import {
  GROUP_NAME,
  groupNameSchema,
  LABEL_KEY,
  LABEL_VALUE,
  labelsSchema,
  MAX_LABELS,
  MAX_RESOURCES,
  RESOURCE_NAME,
  resourcesSchema,
} from '../../fleet/schemas.js';
import { parseOrThrow } from '../../validation.js';

/** What an event asks of a server; returned by the `request` option. */
export interface RequestSpec {
  /** Resources to reserve, e.g. `{ cpu: 2000, memory: 4096 }`. */
  demand: Resources;
  /** Labels the server must carry. */
  labels?: Readonly<Record<string, string>>;
  /** Anti-affinity group. */
  group?: string | null;
}

/** @internal The rules of a request, with zod's precise messages. */
export const requestSpecSchema = z.object({
  demand: resourcesSchema,
  labels: labelsSchema.optional(),
  group: groupNameSchema.nullish(),
});

/** An object literal or `Object.create(null)`: what zod's records accept, and nothing exotic. */
function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * A plain record of at most `max` entries, each passing `ok`. Symbol keys (zod refuses them) and a
 * `__proto__` key (zod drops it) are left to zod, so both paths return the same data.
 */
function isPlainRecord(v: unknown, max: number, ok: (key: string, value: unknown) => boolean): boolean {
  if (!isPlainObject(v) || Object.getOwnPropertySymbols(v).length > 0) return false;
  let n = 0;
  for (const key in v) if (++n > max || key === '__proto__' || !ok(key, v[key])) return false;
  return true;
}

const resourceOk = (key: string, value: unknown): boolean =>
  RESOURCE_NAME.test(key) && Number.isSafeInteger(value) && (value as number) >= 0;
const labelOk = (key: string, value: unknown): boolean =>
  LABEL_KEY.test(key) && typeof value === 'string' && LABEL_VALUE.test(value);

/** @internal True only when `spec` certainly passes `requestSpecSchema` (and zod would return the same data). */
export function isCertainlyValidSpec(spec: unknown): spec is RequestSpec {
  if (!isPlainObject(spec)) return false;
  const { demand, labels, group } = spec;
  return (
    isPlainRecord(demand, MAX_RESOURCES, resourceOk) &&
    (labels === undefined || isPlainRecord(labels, MAX_LABELS, labelOk)) &&
    (group === undefined || group === null || (typeof group === 'string' && GROUP_NAME.test(group)))
  );
}

/**
 * @internal Validate what the `request` option returned: the fast check for well-formed plain
 * data, zod otherwise. Either way the result has the same shape: `group` null when absent.
 *
 * @throws ValidationError naming the field and the rule, under `what`
 */
export function parseRequestSpec(spec: unknown, what: string): RequestSpec {
  const s: RequestSpec = isCertainlyValidSpec(spec) ? spec : parseOrThrow(requestSpecSchema, spec, what);
  return { demand: s.demand, ...(s.labels ? { labels: s.labels } : {}), group: s.group ?? null };
}
