/**
 * What {@link HarpoonClient} reads and writes on the wire: the schemas of Harpoon's answers, and
 * the JSON and query strings of its requests.
 *
 * @module
 */
import { z } from 'zod';
import { wireEventSchema } from '../../events/wire.js';

// Bounds first (a page or batch is at most 10,000): zod then refuses an oversized list before
// parsing its items, instead of collecting an issue per bad item (GHSA-mrhx-c7xc-m3w5).
const MAX_ITEMS = 10_000;

/** @internal `{ events }`: a batch or a page. */
export const events = z.object({ events: z.array(wireEventSchema).max(MAX_ITEMS) });
/** @internal A page of the feed. */
export const feedPage = events.extend({ cursor: z.number(), more: z.boolean().optional() });
/** @internal `{ event }`. */
export const event = z.object({ event: wireEventSchema });
/** @internal One item's outcome: its event, or the error body its own request would get. */
export const outcome = z.union([
  z.object({ ok: z.literal(true), event: wireEventSchema }),
  z.object({ ok: z.literal(false), error: z.object({ code: z.string(), message: z.string() }).loose() }),
]);
/** @internal `{ outcomes }`, each parsed. */
export const outcomes = z.object({ outcomes: z.array(outcome).max(MAX_ITEMS) });
/** @internal `{ outcomes }`, each left to be parsed on its own. */
export const rawOutcomes = z.object({ outcomes: z.array(z.unknown()).max(MAX_ITEMS) });

/** @internal `value` as JSON, or undefined when JSON cannot carry it (`undefined`, a BigInt, a cycle). */
export function jsonOf(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch {
    return undefined;
  }
}

/** @internal A query string of the defined values. */
export function search(values: Record<string, unknown>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(values)) if (v !== undefined && v !== null) p.set(k, String(v));
  return p.toString();
}
