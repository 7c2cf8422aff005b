/**
 * One request, from target to answer. The target, the route and the token are checked before a
 * byte of the body is read, so a refused body is never drained (the answer closes the
 * connection); then the body is read within its bounds, the route runs, and every failure becomes
 * a typed answer. Errors a caller can cause are logged rate-limited; a caller that went away is
 * logged at debug level only.
 *
 * @module
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import { isCtlplaneError, NotFoundError, UnavailableError, ValidationError } from '../../errors.js';
import { type Logger, maskSecrets } from '../../logger.js';
import { otel } from '../../tracing/otel.js';
import { traceContextFromHeaders } from '../../tracing/propagation.js';
import { harpoonRequestSpan } from '../../tracing/spans.js';
import { withSpan } from '../../tracing/tracing.js';
import type { Harpoon } from '../harpoon.js';
import type { TokenAuthenticator } from './auth.js';
import { ClientGoneError, readJsonBody } from './body.js';
import { encodeError } from './error-codec.js';
import type { LongPolls } from './long-polls.js';
import type { RateLimitedLog } from './peer-log.js';
import { send } from './reply.js';
import { type PageTurn, ROUTES, type RouteContext } from './routes.js';
import type { HttpServerSettings } from './server-options.js';

/** @internal What handling a request needs. */
export interface DispatchDeps {
  readonly harpoon: Harpoon;
  readonly auth: TokenAuthenticator;
  readonly settings: HttpServerSettings;
  readonly longPolls: LongPolls;
  readonly pageTurn: PageTurn;
  readonly log: Logger;
  readonly errors: RateLimitedLog;
}

/** No route for the path (404), or none for the method (405, with `Allow`). */
class NoRouteError extends NotFoundError {
  constructor(
    readonly status: 404 | 405,
    readonly allow: string,
    message: string,
  ) {
    super(message);
  }
}

/** The request target as a URL, or a 400: `new URL` throws on targets like `http://[zz/v1/head`. */
function target(req: IncomingMessage): URL {
  try {
    return new URL(req.url ?? '/', 'http://harpoon');
  } catch {
    throw new ValidationError('request target: not a valid URL', [
      { path: 'target', message: 'not a valid URL' },
    ]);
  }
}

/** @internal Answer one request (never rejects). */
export async function dispatch(d: DispatchDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const abort = new AbortController();
  res.once('close', () => abort.abort());
  try {
    const url = target(req);
    if (req.method === 'GET' && url.pathname === '/v1/health') {
      return send(req, res, { status: 200, body: { ok: true, ...d.harpoon.stats } });
    }
    const candidates = ROUTES.filter((r) => r.pattern.test(url.pathname));
    const route = candidates.find((r) => r.method === req.method);
    if (!route) {
      const allow = candidates.map((r) => r.method).join(', ');
      throw new NoRouteError(
        candidates.length > 0 ? 405 : 404,
        allow,
        `no route ${req.method} ${url.pathname}`,
      );
    }
    d.auth.authorize(req.headers.authorization, route.scope);
    const body = req.method === 'POST' ? await readJsonBody(req, d.settings.maxBodyBytes) : undefined;
    // A write with a W3C traceparent header runs inside a server span, a child of the caller's.
    const trace = req.method === 'POST' && otel() ? traceContextFromHeaders(req.headers) : null;
    const handle = (ctx: RouteContext) =>
      trace
        ? withSpan(
            'ctlplane.harpoon.request',
            () => harpoonRequestSpan(trace, req.method!, url.pathname),
            () => route.handle(ctx),
          )
        : route.handle(ctx);
    const reply = await handle({
      harpoon: d.harpoon,
      params: route.pattern.exec(url.pathname)?.groups ?? {},
      query: url.searchParams,
      body,
      signal: abort.signal,
      settings: d.settings,
      longPolls: d.longPolls,
      pageTurn: d.pageTurn,
      errors: d.errors,
    }).catch(backendRefusal);
    await send(req, res, reply);
  } catch (err) {
    try {
      fail(d, req, res, err);
    } catch {
      // Answering failed too (the connection broke mid-answer): drop it, never the process.
      res.destroy();
    }
  }
}

/**
 * The caller passed `authorize` above: an UnauthorizedError from the route is a backend (the
 * database) refusing Harpoon's own credentials. That is Harpoon's failure, not the caller's: a 503
 * with the generic message (the database's text, which names accounts and hosts, is logged only),
 * never a 401 telling a caller with a good token that its token is wrong.
 */
function backendRefusal(err: unknown): never {
  if (!isCtlplaneError(err, 'UNAUTHORIZED')) throw err;
  throw new UnavailableError(`a backing service refused Harpoon's credentials: ${err.message}`, {
    cause: err,
  });
}

function fail(d: DispatchDeps, req: IncomingMessage, res: ServerResponse, err: unknown): void {
  const path = req.url?.split('?')[0]?.slice(0, 200);
  const error = maskSecrets(err instanceof Error ? err.message : String(err));
  if (err instanceof ClientGoneError || res.destroyed) {
    d.log.debug('client went away', { method: req.method, path, error });
    return;
  }
  if (res.headersSent) {
    // The answer had begun: it cannot become an error answer; end the connection instead.
    d.errors.error('answer failed midway', { method: req.method, path, error });
    res.destroy();
    return;
  }
  const { status: byCode, body } = encodeError(err);
  const status = (err as { status?: number }).status ?? byCode;
  // Details (a database's own error text among them) go to the log only, never to the caller.
  if (status >= 500) d.errors.error('request failed', { method: req.method, path, status, error });
  const retry = body.error.retryAfterMs;
  if (retry !== undefined) res.setHeader('retry-after', String(Math.max(1, Math.ceil(retry / 1000))));
  if (err instanceof NoRouteError && err.status === 405) res.setHeader('allow', err.allow);
  void send(req, res, { status, body });
}
