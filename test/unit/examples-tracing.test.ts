/**
 * The droplet cloud's `--trace` pieces on their own: the flags, the span records, the bounded
 * ring, and the JSON-lines file several processes append to.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trace } from '@opentelemetry/api';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { parseCli } from '../../packages/examples/src/droplet-cloud/cli.js';
import { SpanRing } from '../../packages/examples/src/droplet-cloud/tracing/exporters.js';
import { startTracing } from '../../packages/examples/src/droplet-cloud/tracing/setup.js';
import { parseSpanLines } from '../../packages/examples/src/droplet-cloud/tracing/span-record.js';
import { textWaterfall } from '../../packages/examples/src/droplet-cloud/tracing/text-waterfall.js';

describe('droplet cloud: --trace', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ctlplane-trace-unit-'));
  afterEach(() => rmSync(join(dir, 'spans.jsonl'), { force: true }));

  it('parses the flags; --trace-file needs --trace', () => {
    expect(parseCli([])).toMatchObject({ trace: false, refreshMs: 500 });
    expect(parseCli([])?.traceFile).toBeUndefined();
    expect(parseCli(['--trace', '--trace-file', '/tmp/x.jsonl'])).toMatchObject({
      trace: true,
      traceFile: '/tmp/x.jsonl',
    });
    expect(() => parseCli(['--trace-file', '/tmp/x.jsonl'])).toThrow(/--trace-file needs --trace/);
    expect(() => parseCli(['--otlp', 'http://collector:4318'])).toThrow();
  });

  it('registers nothing without --trace', async () => {
    expect(await startTracing({ trace: false, role: 'all' })).toBeNull();
  });

  it('names the service after the role and writes every span, parent and links, as a JSON line', async () => {
    const file = join(dir, 'spans.jsonl');
    const tracing = (await startTracing({ trace: true, traceFile: file, role: 'scheduler' }))!;
    try {
      const tracer = trace.getTracer('test');
      const parent = tracer.startActiveSpan('parent', (span) => {
        tracer.startSpan('child').end();
        span.addEvent('something', { n: 1 });
        return span;
      });
      parent.end();
      tracer.startSpan('linked', { links: [{ context: parent.spanContext() }] }).end();
    } finally {
      await tracing.shutdown();
    }
    const { spans, invalid } = parseSpanLines(readFileSync(file, 'utf8'));
    expect(invalid).toBe(0);
    expect(spans.map((s) => s.name).sort()).toEqual(['child', 'linked', 'parent']);
    const [p, c, l] = ['parent', 'child', 'linked'].map((n) => spans.find((s) => s.name === n)!);
    expect(p).toMatchObject({ service: 'droplet-cloud-scheduler', pid: process.pid, parentSpanId: null });
    expect(p?.events).toMatchObject([{ name: 'something', attributes: { n: 1 } }]);
    expect(c).toMatchObject({ traceId: p?.traceId, parentSpanId: p?.spanId });
    expect(l?.links).toEqual([{ traceId: p?.traceId, spanId: p?.spanId, attributes: {} }]);
    expect(p!.end).toBeGreaterThanOrEqual(p!.start);
    expect(tracing.ring.all()).toHaveLength(3);
    // Unregistered: the API's no-op tracer again.
    expect(trace.getTracer('test').startSpan('after').isRecording()).toBe(false);
  });

  it('skips a line cut short or not a span, and counts it', () => {
    const file = join(dir, 'spans.jsonl');
    writeFileSync(file, '{"traceId":"00"}\n{"name":\n\n');
    expect(parseSpanLines(readFileSync(file, 'utf8'))).toEqual({ spans: [], invalid: 2 });
  });

  it('keeps a bounded number of spans in memory, the newest', async () => {
    const ring = new SpanRing(4);
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(ring)] });
    for (let i = 0; i < 10; i++) provider.getTracer('t').startSpan(`s${i}`).end();
    await provider.shutdown();
    const names = ring.all().map((s) => s.name);
    expect(names.length).toBeGreaterThanOrEqual(4);
    expect(names.length).toBeLessThanOrEqual(5);
    expect(names.at(-1)).toBe('s9');
    expect(names).not.toContain('s0');
  });

  it('prints a waterfall as text: a bar per span on the time axis of the trace', () => {
    const row = (
      name: string,
      relation: 'root' | 'child' | 'linked',
      offsetMs: number,
      durationMs: number,
    ) => ({
      ...{ name, relation, offsetMs, durationMs, service: 's', pid: 1, status: 'unset' as const },
      events: name === 'b' ? [{ name: 'ctlplane.schedule.conflict', offsetMs: 5 }] : [],
    });
    const lines = textWaterfall(
      {
        traceId: 'ab'.repeat(16),
        eventId: 7,
        totalMs: 100,
        rows: [row('a', 'root', 0, 100), row('b', 'child', 50, 25), row('c', 'linked', 99, 0)],
      },
      10,
    );
    expect(lines).toEqual([
      `droplet 7 · trace ${'ab'.repeat(16)} · 3 spans over 100.0 ms`,
      '      0.0    100.0 |##########| a  s[1]',
      '     50.0     25.0 |     ###  | b  s[1]  ◆ ctlplane.schedule.conflict',
      '     99.0      0.0 |         -| ↳ c  s[1]',
    ]);
  });
});
