/**
 * The writing routes: creates, transitions, claims and leases.
 *
 * @module
 */
import { z } from 'zod';
import type { TransitionOutcome } from '../../events/model.js';
import { type TraceContext, traceContextSchema } from '../../events/trace-context.js';
import { toWireEvent } from '../../events/wire.js';
import type { NewEventOf } from '../../store/event-store-types.js';
import { claimSchema, transitionSchema } from '../../store/schemas.js';
import { runInTraceContext } from '../../tracing/tracing.js';
import { idSchema, nameSchema, parseOrThrow } from '../../validation.js';
import type { Harpoon } from '../harpoon.js';
import type { HarpoonScope } from './auth.js';
import { encodeError } from './error-codec.js';
import type { Route, RouteContext } from './routes.js';
import { MAX_HTTP_BATCH } from './server-options.js';
import { runEach } from './write-each.js';

// One schema per body shape, chosen by its key: a union would report a bad list only as
// "(root): Invalid input" instead of naming the field and the rule.
const oneEvent = z.object({ event: z.unknown() }).strict();
const manyEvents = z.object({ events: z.array(z.unknown()).max(MAX_HTTP_BATCH) }).strict();
const oneTransition = z.object({ transition: transitionSchema }).strict();
const manyTransitions = z.object({ transitions: z.array(transitionSchema).max(MAX_HTTP_BATCH) }).strict();
const leaseBody = z
  .object({ id: idSchema, owner: nameSchema, leaseMs: claimSchema.shape.leaseMs.optional() })
  .strict();

const wire = <T extends { createdAt: Date }>(e: T) => toWireEvent(e as never);
const encodeOutcome = (o: TransitionOutcome) =>
  o.ok ? { ok: true, event: wire(o.event) } : { ok: false, ...encodeError(o.error).body };

type Write = (harpoon: Harpoon, body: unknown) => Promise<unknown>;

/**
 * A coalesced transition item without its `traceContext` (validated; a malformed one is ignored,
 * as a malformed `traceparent` header is).
 */
function splitTrace(item: unknown): { transition: unknown; traceContext: TraceContext | null } {
  if (typeof item !== 'object' || item === null || !('traceContext' in item)) {
    return { transition: item, traceContext: null };
  }
  const { traceContext, ...transition } = item as { traceContext: unknown };
  const parsed = traceContextSchema.safeParse(traceContext);
  return { transition, traceContext: parsed.success ? parsed.data : null };
}

const has = (body: unknown, key: string) => typeof body === 'object' && body !== null && key in body;

/**
 * A POST route whose body holds one item, a batch, or a coalesced list, told apart by their keys:
 * the batch's (`events`, `transitions`) runs `many`; `each` runs `item` for every element on its
 * own and answers 200 with one outcome per element (see write-each.ts); anything else is checked
 * as a single item and runs `one`.
 */
const oneOrBatchRoute = (
  path: string,
  scope: HarpoonScope,
  status: number,
  batchKey: string,
  write: { kind: 'create' | 'transition'; many: Write; one: Write; item: Write },
): Route => ({
  method: 'POST',
  pattern: new RegExp(`^${path}$`),
  scope,
  handle: async ({ harpoon, body, errors }: RouteContext) => {
    if (has(body, 'each')) {
      return { status: 200, body: await runEach(harpoon, body, write.kind, write.item, errors, path) };
    }
    return { status, body: await (has(body, batchKey) ? write.many : write.one)(harpoon, body) };
  },
});

/** @internal */
export const WRITE_ROUTES: readonly Route[] = [
  oneOrBatchRoute('/v1/events', 'events:create', 201, 'events', {
    kind: 'create',
    many: async (h, b) => {
      const { events } = parseOrThrow(manyEvents, b, 'body');
      return { events: (await h.createMany(events as NewEventOf<never>[])).map(wire) };
    },
    one: async (h, b) => ({
      event: wire(await h.create(parseOrThrow(oneEvent, b, 'body').event as NewEventOf<never>)),
    }),
    // As `one` for the body `{ event: item }`: the event is checked by Harpoon's create.
    item: async (h, e) => wire(await h.create(e as NewEventOf<never>)),
  }),
  oneOrBatchRoute('/v1/transitions', 'events:transition', 200, 'transitions', {
    kind: 'transition',
    many: async (h, b) => {
      const { transitions } = parseOrThrow(manyTransitions, b, 'body');
      return { outcomes: (await h.transitionMany(transitions)).map(encodeOutcome) };
    },
    one: async (h, b) => ({
      event: wire(await h.transition(parseOrThrow(oneTransition, b, 'body').transition)),
    }),
    // As `one` for the body `{ transition: item }`, so a bad item gets the very same error.
    // A coalesced item may carry its caller's trace context beside the transition's fields.
    item: async (h, t) => {
      const { transition, traceContext } = splitTrace(t);
      return runInTraceContext(traceContext, async () =>
        wire(await h.transition(parseOrThrow(oneTransition, { transition }, 'body').transition)),
      );
    },
  }),
  {
    method: 'POST',
    pattern: /^\/v1\/claims$/,
    scope: 'events:claim',
    handle: async ({ harpoon: h, body }) => ({
      status: 200,
      body: { events: (await h.claim(parseOrThrow(claimSchema, body, 'body'))).map(wire) },
    }),
  },
  {
    method: 'POST',
    pattern: /^\/v1\/leases\/(?<action>renew|release)$/,
    scope: 'events:claim',
    handle: async ({ harpoon: h, body, params }) => {
      const b = parseOrThrow(leaseBody, body, 'body');
      const event =
        params.action === 'renew'
          ? await h.renew(b.id, b.owner, b.leaseMs ?? 30_000)
          : await h.release(b.id, b.owner);
      return { status: 200, body: { event: wire(event) } };
    },
  },
];
