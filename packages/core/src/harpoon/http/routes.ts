/**
 * The routes of Harpoon's HTTP API: each parses its input with zod, checks the caller's scope and
 * calls the in-process Harpoon. Writes are in write-routes, reads in read-routes.
 *
 * @module
 */
import type { Harpoon } from '../harpoon.js';
import type { HarpoonScope } from './auth.js';
import type { LongPolls } from './long-polls.js';
import type { RateLimitedLog } from './peer-log.js';
import { READ_ROUTES } from './read-routes.js';
import type { Reply } from './reply.js';
import type { HttpServerSettings } from './server-options.js';
import { WRITE_ROUTES } from './write-routes.js';

/** @internal One request, already authenticated for the route's scope. */
/**
 * Runs `read` when a page turn is free (at most `maxPageReads` at once, in arrival order); a read
 * whose `signal` aborts while it waits never runs.
 */
export type PageTurn = <T>(read: () => Promise<T>, signal: AbortSignal) => Promise<T>;

export interface RouteContext {
  readonly harpoon: Harpoon;
  readonly params: Record<string, string>;
  readonly query: URLSearchParams;
  readonly body: unknown;
  /** Aborted when the client goes away. */
  readonly signal: AbortSignal;
  readonly settings: HttpServerSettings;
  readonly longPolls: LongPolls;
  /** Runs a page read in its turn (at most `maxPageReads` at once). */
  readonly pageTurn: PageTurn;
  /** Where failures on Harpoon's side are logged (rate-limited) when a route answers them itself. */
  readonly errors?: RateLimitedLog;
}

/** @internal */
export interface Route {
  readonly method: 'GET' | 'POST';
  readonly pattern: RegExp;
  readonly scope: HarpoonScope;
  readonly handle: (ctx: RouteContext) => Promise<Reply>;
}

/** @internal Every route of the API. */
export const ROUTES: readonly Route[] = [...WRITE_ROUTES, ...READ_ROUTES];
