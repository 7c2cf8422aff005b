/**
 * `GET /trace.json?droplet=<id>`: a droplet's trace as waterfall rows, from the spans this
 * process kept in memory (`--trace`). 404 when no span of that droplet is kept (not traced, or
 * aged out of the ring), 503 when the cloud runs without `--trace`.
 */
import { parseOrThrow } from '@ctlplane/core/driver';
import { z } from 'zod';
import { type Handler, sendJson } from '../http-util.js';
import { dropletTrace, waterfall } from '../tracing/droplet-trace.js';
import type { SpanRing } from '../tracing/exporters.js';

const dropletId = z.coerce.number().int().positive();

/** The route; `ring` is null when tracing is off. */
export function traceRoute(ring: SpanRing | null): Handler {
  return (req, res, url) => {
    if (req.method !== 'GET' || url.pathname !== '/trace.json') return false;
    if (!ring) {
      sendJson(res, 503, { error: { code: 'UNAVAILABLE', message: 'tracing is off: start with --trace' } });
      return true;
    }
    const id = parseOrThrow(dropletId, url.searchParams.get('droplet') ?? '', 'droplet');
    const t = dropletTrace(ring.all(), id);
    if (!t) sendJson(res, 404, { error: { code: 'NOT_FOUND', message: `no spans of droplet ${id}` } });
    else sendJson(res, 200, waterfall(t, id));
    return true;
  };
}
