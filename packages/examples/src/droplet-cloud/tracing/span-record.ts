/**
 * One finished span as a flat JSON object: what `--trace-file` writes, one per line, and what the
 * dashboard's waterfall draws. Times are milliseconds since the epoch (the SDK takes a span's
 * start from the wall clock, to the millisecond, and its duration from the monotonic clock; every
 * process of a deployment on one machine reads the same wall clock, so spans of different
 * processes can be ordered). Lines read back are parsed with zod: a file several processes append
 * to is input from outside this process.
 */
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { z } from 'zod';

const KINDS = ['internal', 'server', 'client', 'producer', 'consumer'] as const;
const STATUSES = ['unset', 'ok', 'error'] as const;

const attributes = z.record(z.string(), z.unknown());
const hex = (n: number) => z.string().regex(new RegExp(`^[0-9a-f]{${n}}$`), `must be ${n} hex digits`);

const spanRecordSchema = z.object({
  traceId: hex(32),
  spanId: hex(16),
  parentSpanId: hex(16).nullable(),
  name: z.string(),
  kind: z.enum(KINDS),
  /** The resource's `service.name`: `droplet-cloud-<role>` (`droplet-cloud` in one process). */
  service: z.string(),
  /** The resource's `process.pid`. */
  pid: z.number().int(),
  start: z.number(),
  end: z.number(),
  status: z.enum(STATUSES),
  attributes,
  events: z.array(z.object({ name: z.string(), time: z.number(), attributes })),
  links: z.array(z.object({ traceId: hex(32), spanId: hex(16), attributes })),
});

/** A finished span, flattened (see the module comment). */
export type SpanRecord = z.output<typeof spanRecordSchema>;

const ms = (t: readonly [number, number]): number => t[0] * 1_000 + t[1] / 1e6;

/** Flatten a span the SDK finished. */
export function toSpanRecord(span: ReadableSpan): SpanRecord {
  const sc = span.spanContext();
  const resource = span.resource.attributes;
  return {
    traceId: sc.traceId,
    spanId: sc.spanId,
    parentSpanId: span.parentSpanContext?.spanId ?? null,
    name: span.name,
    kind: KINDS[span.kind] ?? 'internal',
    service: String(resource['service.name'] ?? 'unknown'),
    pid: Number(resource['process.pid'] ?? 0),
    start: ms(span.startTime),
    end: ms(span.endTime),
    status: STATUSES[span.status.code] ?? 'unset',
    attributes: { ...span.attributes },
    events: span.events.map((e) => ({ name: e.name, time: ms(e.time), attributes: { ...e.attributes } })),
    links: span.links.map((l) => ({
      traceId: l.context.traceId,
      spanId: l.context.spanId,
      attributes: { ...l.attributes },
    })),
  };
}

/**
 * Parse the lines of a trace file. A line cut short (a process killed in the middle of a write)
 * or otherwise invalid is skipped and counted, never fatal.
 */
export function parseSpanLines(text: string): { spans: SpanRecord[]; invalid: number } {
  const spans: SpanRecord[] = [];
  let invalid = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const parsed = spanRecordSchema.safeParse(JSON.parse(line));
      if (parsed.success) spans.push(parsed.data);
      else invalid++;
    } catch {
      invalid++;
    }
  }
  return { spans, invalid };
}
