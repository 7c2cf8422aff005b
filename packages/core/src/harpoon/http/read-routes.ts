/**
 * The reading routes. Pages of `GET /v1/events` and `GET /v1/feed` are bounded in bytes
 * (`maxResponseBytes`) as well as in count; a feed read with `waitMs` waits with the other
 * long-polls (see long-polls) when nothing is there yet.
 *
 * @module
 */
import { z } from 'zod';
import { NotFoundError } from '../../errors.js';
import type { FeedFilter, StoredEvent } from '../../events/model.js';
import { toWireEvent } from '../../events/wire.js';
import { DEFAULT_FEED_LIMIT, DEFAULT_QUERY_LIMIT, statusArraySchema } from '../../store/schemas.js';
import { cursorSchema, idSchema, nameSchema, parseOrThrow } from '../../validation.js';
import type { Harpoon } from '../harpoon.js';
import { type BoundedPage, readBoundedPage } from './page-reader.js';
import type { Route } from './routes.js';

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

const params = (q: URLSearchParams): Record<string, string> => Object.fromEntries(q.entries());

/** A feed page within `maxBytes`: `cut` when the budget ended it before `limit` (read on at once). */
function readFeedPage(
  h: Harpoon,
  cursor: number,
  filter: FeedFilter,
  limit: number,
  maxBytes: number,
  signal: AbortSignal,
): Promise<BoundedPage<number>> {
  return readBoundedPage<StoredEvent, number>(
    {
      read: async (from, n) => {
        const page = await h.readFeed(from, { ...filter, limit: n });
        return { events: page.events, next: page.cursor, end: page.events.length < n };
      },
      after: (e) => e.seq,
    },
    cursor,
    limit,
    maxBytes,
    signal,
  );
}

const COMMA = Buffer.from(',');

/** `{"events":[…],<tail>}` as parts, the events' JSON never joined into one string. */
const pageParts = (events: readonly Buffer[], tail: string): (string | Buffer)[] => {
  const parts: (string | Buffer)[] = ['{"events":['];
  for (const [i, e] of events.entries()) {
    if (i > 0) parts.push(COMMA);
    parts.push(e);
  }
  parts.push(`],${tail}}`);
  return parts;
};

const feedParts = (p: BoundedPage<number>): (string | Buffer)[] =>
  pageParts(p.events, `"cursor":${p.next}${p.cut ? ',"more":true' : ''}`);

/** @internal */
export const READ_ROUTES: readonly Route[] = [
  {
    method: 'GET',
    pattern: /^\/v1\/events\/(?<id>[^/]+)$/,
    scope: 'events:read',
    handle: async ({ harpoon: h, params: p }) => {
      const id = parseOrThrow(z.coerce.number().pipe(idSchema), p.id, 'id');
      const event = await h.get(id);
      if (!event) throw new NotFoundError(`event ${id} not found`);
      return { status: 200, body: { event: toWireEvent(event) } };
    },
  },
  {
    method: 'GET',
    pattern: /^\/v1\/events$/,
    scope: 'events:read',
    handle: async ({ harpoon: h, query, settings, pageTurn, signal }) => {
      const {
        limit = DEFAULT_QUERY_LIMIT,
        cursor,
        ...q
      } = parseOrThrow(queryParams, params(query), 'query string');
      const page = await pageTurn(
        () =>
          readBoundedPage<StoredEvent, string | null>(
            {
              read: async (from, n) => {
                const p = await h.query({ ...q, limit: n, cursor: from });
                return { events: p.events, next: p.nextCursor, end: p.nextCursor === null };
              },
              after: (e) => String(e.id),
            },
            cursor ?? null,
            limit,
            settings.maxResponseBytes,
            signal,
          ),
        signal,
      );
      return { status: 200, parts: pageParts(page.events, `"nextCursor":${JSON.stringify(page.next)}`) };
    },
  },
  {
    method: 'GET',
    pattern: /^\/v1\/feed$/,
    scope: 'events:read',
    handle: async ({ harpoon: h, query, settings, longPolls, signal, pageTurn }) => {
      const {
        cursor,
        waitMs,
        limit = DEFAULT_FEED_LIMIT,
        ...filter
      } = parseOrThrow(feedParams, params(query), 'query string');
      const read = () => readFeedPage(h, cursor, filter, limit, settings.maxResponseBytes, signal);
      const seenHead = longPolls.seenHead;
      const first = await pageTurn(read, signal);
      const wait = Math.min(waitMs, settings.maxWaitMs);
      if (first.count > 0 || wait === 0) return { status: 200, parts: feedParts(first) };
      const found = await longPolls.wait({
        seenHead,
        waitMs: wait,
        signal,
        read: async () => {
          const page = await pageTurn(read, signal);
          return page.count > 0 ? page : null;
        },
      });
      return { status: 200, parts: feedParts(found ?? first) };
    },
  },
  {
    method: 'GET',
    pattern: /^\/v1\/head$/,
    scope: 'events:read',
    handle: async ({ harpoon: h }) => ({ status: 200, body: { head: await h.head() } }),
  },
];
