/**
 * The routes of Harpoon's HTTP API: each parses its input with zod, checks the caller's scope and
 * calls the in-process Harpoon.
 *
 * @module
 */
import { z } from 'zod';
import { NotFoundError } from '../../errors.js';
import type { TransitionOutcome } from '../../events/model.js';
import { toWireEvent } from '../../events/wire.js';
import type { NewEventOf } from '../../store/event-store.js';
import { claimSchema, statusArraySchema, transitionSchema } from '../../store/schemas.js';
import { cursorSchema, idSchema, nameSchema, parseOrThrow } from '../../validation.js';
import type { Harpoon } from '../harpoon.js';
import type { HarpoonScope } from './auth.js';
import { encodeError } from './error-codec.js';

/** @internal One request, already authenticated for the route's scope. */
export interface RouteRequest {
  readonly params: Record<string, string>;
  readonly query: URLSearchParams;
  readonly body: unknown;
  readonly signal: AbortSignal;
}

/** @internal */
export interface Route {
  readonly method: 'GET' | 'POST';
  readonly pattern: RegExp;
  readonly scope: HarpoonScope;
  readonly handle: (
    h: Harpoon,
    req: RouteRequest,
    maxWaitMs: number,
  ) => Promise<{ status: number; body: unknown }>;
}

const statusList = z
  .string()
  .transform((s) => s.split(','))
  .pipe(statusArraySchema.min(1));
const int = z.coerce.number().int();
const queryParams = z
  .object({
    status: statusList.optional(),
    type: nameSchema.optional(),
    serverId: nameSchema.optional(),
    region: nameSchema.optional(),
    limit: int.min(1).max(1_000).optional(),
    cursor: z.string().optional(),
  })
  .strict();
const feedParams = z
  .object({
    cursor: z.coerce.number().pipe(cursorSchema).default(0),
    status: statusList.optional(),
    serverId: nameSchema.optional(),
    region: nameSchema.optional(),
    limit: int.min(1).max(10_000).optional(),
    waitMs: int.min(0).max(60_000).default(0),
  })
  .strict();
const leaseBody = z
  .object({ id: idSchema, owner: nameSchema, leaseMs: claimSchema.shape.leaseMs.optional() })
  .strict();

const params = (q: URLSearchParams): Record<string, string> => Object.fromEntries(q.entries());
const wire = <T extends { createdAt: Date }>(e: T) => toWireEvent(e as never);
const encodeOutcome = (o: TransitionOutcome) =>
  o.ok ? { ok: true, event: wire(o.event) } : { ok: false, ...encodeError(o.error).body };

/** @internal Every route of the API. */
export const ROUTES: readonly Route[] = [
  {
    method: 'POST',
    pattern: /^\/v1\/events$/,
    scope: 'events:create',
    handle: async (h, req) => {
      const body = parseOrThrow(
        z.union([
          z.object({ event: z.unknown() }).strict(),
          z.object({ events: z.array(z.unknown()) }).strict(),
        ]),
        req.body,
        'body',
      );
      if ('event' in body)
        return { status: 201, body: { event: wire(await h.create(body.event as NewEventOf<never>)) } };
      return {
        status: 201,
        body: { events: (await h.createMany(body.events as NewEventOf<never>[])).map(wire) },
      };
    },
  },
  {
    method: 'POST',
    pattern: /^\/v1\/transitions$/,
    scope: 'events:transition',
    handle: async (h, req) => {
      const body = parseOrThrow(
        z.union([
          z.object({ transition: transitionSchema }).strict(),
          z.object({ transitions: z.array(transitionSchema).max(5_000) }).strict(),
        ]),
        req.body,
        'body',
      );
      if ('transition' in body)
        return { status: 200, body: { event: wire(await h.transition(body.transition)) } };
      return {
        status: 200,
        body: { outcomes: (await h.transitionMany(body.transitions)).map(encodeOutcome) },
      };
    },
  },
  {
    method: 'GET',
    pattern: /^\/v1\/events\/(?<id>[^/]+)$/,
    scope: 'events:read',
    handle: async (h, req) => {
      const id = parseOrThrow(z.coerce.number().pipe(idSchema), req.params.id, 'id');
      const event = await h.get(id);
      if (!event) throw new NotFoundError(`event ${id} not found`);
      return { status: 200, body: { event: wire(event) } };
    },
  },
  {
    method: 'GET',
    pattern: /^\/v1\/events$/,
    scope: 'events:read',
    handle: async (h, req) => {
      const q = parseOrThrow(queryParams, params(req.query), 'query string');
      const page = await h.query(q);
      return { status: 200, body: { events: page.events.map(wire), nextCursor: page.nextCursor } };
    },
  },
  {
    method: 'GET',
    pattern: /^\/v1\/feed$/,
    scope: 'events:read',
    handle: async (h, req, maxWaitMs) => {
      const { cursor, waitMs, ...filter } = parseOrThrow(feedParams, params(req.query), 'query string');
      let page = await h.readFeed(cursor, filter);
      if (page.events.length === 0 && waitMs > 0) {
        const signal = AbortSignal.any([req.signal, AbortSignal.timeout(Math.min(waitMs, maxWaitMs))]);
        for await (const next of h.follow(cursor, { ...filter, signal, pollMs: 100 })) {
          page = next;
          break;
        }
      }
      return { status: 200, body: { events: page.events.map(wire), cursor: page.cursor } };
    },
  },
  {
    method: 'GET',
    pattern: /^\/v1\/head$/,
    scope: 'events:read',
    handle: async (h) => ({ status: 200, body: { head: await h.head() } }),
  },
  {
    method: 'POST',
    pattern: /^\/v1\/claims$/,
    scope: 'events:claim',
    handle: async (h, req) => ({
      status: 200,
      body: { events: (await h.claim(parseOrThrow(claimSchema, req.body, 'body'))).map(wire) },
    }),
  },
  {
    method: 'POST',
    pattern: /^\/v1\/leases\/(?<action>renew|release)$/,
    scope: 'events:claim',
    handle: async (h, req) => {
      const b = parseOrThrow(leaseBody, req.body, 'body');
      const event =
        req.params.action === 'renew'
          ? await h.renew(b.id, b.owner, b.leaseMs ?? 30_000)
          : await h.release(b.id, b.owner);
      return { status: 200, body: { event: wire(event) } };
    },
  },
];
