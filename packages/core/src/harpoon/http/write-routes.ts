/**
 * The writing routes: creates, transitions, claims and leases.
 *
 * @module
 */
import { z } from 'zod';
import type { TransitionOutcome } from '../../events/model.js';
import { toWireEvent } from '../../events/wire.js';
import type { NewEventOf } from '../../store/event-store-types.js';
import { claimSchema, transitionSchema } from '../../store/schemas.js';
import { idSchema, nameSchema, parseOrThrow } from '../../validation.js';
import { encodeError } from './error-codec.js';
import type { Route } from './routes.js';
import { MAX_HTTP_BATCH } from './server-options.js';

// One schema per body shape, chosen by its key: a union would report a bad list only as
// "(root): Invalid input" instead of naming the field and the rule.
const oneEvent = z.object({ event: z.unknown() }).strict();
const manyEvents = z.object({ events: z.array(z.unknown()).max(MAX_HTTP_BATCH) }).strict();
const oneTransition = z.object({ transition: transitionSchema }).strict();
const manyTransitions = z.object({ transitions: z.array(transitionSchema).max(MAX_HTTP_BATCH) }).strict();
const has = (body: unknown, key: string): boolean => typeof body === 'object' && body !== null && key in body;
const leaseBody = z
  .object({ id: idSchema, owner: nameSchema, leaseMs: claimSchema.shape.leaseMs.optional() })
  .strict();

const wire = <T extends { createdAt: Date }>(e: T) => toWireEvent(e as never);
const encodeOutcome = (o: TransitionOutcome) =>
  o.ok ? { ok: true, event: wire(o.event) } : { ok: false, ...encodeError(o.error).body };

/** @internal */
export const WRITE_ROUTES: readonly Route[] = [
  {
    method: 'POST',
    pattern: /^\/v1\/events$/,
    scope: 'events:create',
    handle: async ({ harpoon: h, body }) => {
      if (has(body, 'events')) {
        const { events } = parseOrThrow(manyEvents, body, 'body');
        return {
          status: 201,
          body: { events: (await h.createMany(events as NewEventOf<never>[])).map(wire) },
        };
      }
      const { event } = parseOrThrow(oneEvent, body, 'body');
      return { status: 201, body: { event: wire(await h.create(event as NewEventOf<never>)) } };
    },
  },
  {
    method: 'POST',
    pattern: /^\/v1\/transitions$/,
    scope: 'events:transition',
    handle: async ({ harpoon: h, body }) => {
      if (has(body, 'transitions')) {
        const { transitions } = parseOrThrow(manyTransitions, body, 'body');
        return { status: 200, body: { outcomes: (await h.transitionMany(transitions)).map(encodeOutcome) } };
      }
      const { transition } = parseOrThrow(oneTransition, body, 'body');
      return { status: 200, body: { event: wire(await h.transition(transition)) } };
    },
  },
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
