/**
 * One droplet's trace, picked out of many spans: the trace the API's create span started, and the
 * spans of other traces that link into it (Harpoon's group commits and relay rounds, the
 * scheduler's reservations, the router's batches of acknowledgements serve many droplets at once,
 * so each starts a trace of its own and links to every droplet it served).
 */
import type { SpanRecord } from './span-record.js';

/** The name of the span a droplet's trace starts with (see `api-span.ts`). */
export const CREATE_SPAN = 'droplet-cloud.api.create';

/** One droplet's trace. */
export interface DropletTrace {
  readonly traceId: string;
  /** The API's create span: the trace's root. */
  readonly root: SpanRecord;
  /** Every span of the trace. */
  readonly spans: readonly SpanRecord[];
  /** Spans of other traces with a link into this one. */
  readonly linked: readonly SpanRecord[];
}

/** The trace the API's create of event `eventId` started, or null when no such span is known. */
export function dropletTrace(all: readonly SpanRecord[], eventId: number): DropletTrace | null {
  const root = all.find((s) => s.name === CREATE_SPAN && s.attributes['ctlplane.event.id'] === eventId);
  if (!root) return null;
  return {
    traceId: root.traceId,
    root,
    spans: all.filter((s) => s.traceId === root.traceId),
    linked: all.filter((s) => s.traceId !== root.traceId && s.links.some((l) => l.traceId === root.traceId)),
  };
}

/** One row of a waterfall: a span, placed on the trace's time axis. */
export interface WaterfallRow {
  readonly name: string;
  readonly service: string;
  readonly pid: number;
  /** In the trace (`child`, or the `root`), or in another trace linking to it (`linked`). */
  readonly relation: 'root' | 'child' | 'linked';
  /** Ms from the root's start. */
  readonly offsetMs: number;
  readonly durationMs: number;
  readonly status: SpanRecord['status'];
  /** Span events (conflicts, retries, transitions), ms from the root's start. */
  readonly events: readonly { readonly name: string; readonly offsetMs: number }[];
}

/** A droplet's trace as waterfall rows, in start order. */
export interface Waterfall {
  readonly traceId: string;
  readonly eventId: number;
  readonly totalMs: number;
  readonly rows: readonly WaterfallRow[];
}

const round = (n: number) => Math.round(n * 1_000) / 1_000;

/** The waterfall of `t`, one row per span, ordered by start. */
export function waterfall(t: DropletTrace, eventId: number): Waterfall {
  const t0 = t.root.start;
  const rows = [...t.spans, ...t.linked]
    .sort((a, b) => a.start - b.start)
    .map(
      (s): WaterfallRow => ({
        name: s.name,
        service: s.service,
        pid: s.pid,
        relation: s === t.root ? 'root' : s.traceId === t.traceId ? 'child' : 'linked',
        offsetMs: round(s.start - t0),
        durationMs: round(s.end - s.start),
        status: s.status,
        events: s.events.map((e) => ({ name: e.name, offsetMs: round(e.time - t0) })),
      }),
    );
  const end = Math.max(...rows.map((r) => r.offsetMs + r.durationMs));
  return { traceId: t.traceId, eventId, totalMs: round(end), rows };
}
