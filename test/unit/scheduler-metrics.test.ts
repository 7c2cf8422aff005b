import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  combineMetricsSources,
  isCtlplaneError,
  PrometheusScraper,
  PushMetricsSource,
  parsePrometheusText,
} from '@ctlplane/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

describe('Prometheus text format', () => {
  it('parses samples, canonicalises labels and skips comments, non-finite values and junk', () => {
    const text = [
      '# HELP node_load1 1m load average.',
      '# TYPE node_load1 gauge',
      'node_load1 0.42',
      'node_cpu_seconds_total{mode="idle",cpu="0"} 1234.5 1700000000000',
      'node_filesystem_avail_bytes{mountpoint="/a \\"b\\"",device="x"} 1e9',
      'weird_value +Inf',
      'not a metric line',
      'missing_value{a="b"}',
      '',
    ].join('\n');
    const { values, malformed } = parsePrometheusText(text);
    expect(values).toEqual({
      node_load1: 0.42,
      'node_cpu_seconds_total{cpu="0",mode="idle"}': 1234.5,
      'node_filesystem_avail_bytes{device="x",mountpoint="/a \\"b\\""}': 1e9,
    });
    expect(malformed).toBe(2);
  });

  it('keeps only the wanted metric names when asked', () => {
    expect(parsePrometheusText('a 1\nb{x="y"} 2\nc 3', (n) => n !== 'b').values).toEqual({ a: 1, c: 3 });
  });
});

describe('PushMetricsSource', () => {
  it('keeps the newest report per server and tells subscribers', () => {
    const m = new PushMetricsSource();
    const seen: string[] = [];
    const off = m.subscribe((ids) => seen.push(...ids));
    m.report('hv1', { node_load1: 2 }, 2_000);
    m.report('hv1', { node_load1: 9 }, 1_000); // older: ignored
    expect(m.get('hv1')).toEqual({ values: { node_load1: 2 }, at: 2_000 });
    off();
    m.report('hv2', { node_load1: 1 });
    expect(seen).toEqual(['hv1']);
  });

  it('is bounded: the server reported least recently is forgotten first', () => {
    const m = new PushMetricsSource({ maxServers: 2 });
    m.report('a', { x: 1 });
    m.report('b', { x: 1 });
    m.report('a', { x: 2 });
    m.report('c', { x: 1 });
    expect([m.get('a')?.values.x, m.get('b'), m.get('c')?.values.x, m.size]).toEqual([2, undefined, 1, 2]);
  });

  it('validates what crosses from agents', () => {
    const m = new PushMetricsSource();
    for (const bad of [() => m.report('hv1', { x: Number.NaN }), () => m.report('', { x: 1 })]) {
      expect(bad).toThrow();
      try {
        bad();
      } catch (err) {
        expect(isCtlplaneError(err, 'VALIDATION')).toBe(true);
      }
    }
    expect(m.size).toBe(0);
  });

  it('combines sources: the newest sample wins', () => {
    const a = new PushMetricsSource();
    const b = new PushMetricsSource();
    a.report('hv1', { load: 1 }, 1_000);
    b.report('hv1', { load: 2 }, 2_000);
    b.report('hv2', { load: 3 }, 500);
    const both = combineMetricsSources(a, b);
    expect([both.get('hv1')?.values.load, both.get('hv2')?.values.load, both.get('hv3')]).toEqual([
      2,
      3,
      undefined,
    ]);
  });
});

describe('PrometheusScraper against a real HTTP server on 127.0.0.1', () => {
  let http: HttpServer;
  let base = '';
  let inFlight = 0;
  let maxInFlight = 0;
  let loadOfA = 0.5;
  beforeAll(async () => {
    http = createServer((req, res) => {
      const done = (status: number, body: string) =>
        res.writeHead(status, { 'content-type': 'text/plain' }).end(body);
      const path = req.url ?? '';
      if (path === '/a') done(200, `# TYPE node_load1 gauge\nnode_load1 ${loadOfA}\nnode_other 7\n`);
      else if (path.startsWith('/slowish')) {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        setTimeout(() => {
          inFlight--;
          done(200, 'node_load1 1\n');
        }, 30);
      } else if (path === '/hang') setTimeout(() => done(200, 'node_load1 1\n'), 5_000).unref();
      else if (path === '/big') done(200, `node_load1 1\n${'x'.repeat(4_000)}\n`);
      else done(500, 'boom');
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    http.closeAllConnections();
    await new Promise((r) => http.close(r));
  });

  it('scrapes each target, keeps the wanted metrics and reports failures per target', async () => {
    const failed: string[] = [];
    const scraper = new PrometheusScraper({
      targets: () => [
        { serverId: 'a', url: `${base}/a` },
        { serverId: 'hang', url: `${base}/hang` },
        { serverId: 'big', url: `${base}/big` },
        { serverId: 'err', url: `${base}/err` },
        { serverId: 'closed', url: 'http://127.0.0.1:1/metrics' },
      ],
      timeoutMs: 1_500, // far below /hang's 5 s; generous for a loaded machine (200 ms failed at load 12)
      maxBytes: 1_024,
      metrics: ['node_load1'],
    });
    scraper.on('metrics:scrape:failed', (e) => failed.push(e.serverId));
    const changed: string[] = [];
    scraper.subscribe((ids) => changed.push(...ids));
    const round = await scraper.scrapeOnce();
    expect(round).toMatchObject({ ok: 1, failed: 4 });
    expect(scraper.get('a')?.values).toEqual({ node_load1: 0.5 });
    expect(Date.now() - scraper.get('a')!.at).toBeLessThan(60_000);
    expect(failed.sort()).toEqual(['big', 'closed', 'err', 'hang']);
    expect(changed).toEqual(['a']);
    for (const id of ['hang', 'big', 'err', 'closed']) expect(scraper.get(id)).toBeUndefined();
    await scraper.close();
  });

  it('keeps the last sample of a target that starts failing (it ages into staleness)', async () => {
    let url = `${base}/a`;
    const scraper = new PrometheusScraper({ targets: () => [{ serverId: 'a', url }] });
    loadOfA = 0.7;
    await scraper.scrapeOnce();
    const first = scraper.get('a')!;
    url = `${base}/err`;
    expect((await scraper.scrapeOnce()).failed).toBe(1);
    expect(scraper.get('a')).toBe(first);
    await scraper.close();
  });

  it('never has more requests in flight than its concurrency', async () => {
    maxInFlight = 0;
    const scraper = new PrometheusScraper({
      targets: async () =>
        Array.from({ length: 12 }, (_, i) => ({ serverId: `s${i}`, url: `${base}/slowish/${i}` })),
      concurrency: 3,
    });
    expect((await scraper.scrapeOnce()).ok).toBe(12);
    expect(maxInFlight).toBeGreaterThan(1);
    expect(maxInFlight).toBeLessThanOrEqual(3);
    await scraper.close();
  });

  it('validates its options', () => {
    expect(() => new PrometheusScraper({ targets: () => [], concurrency: 0 })).toThrow(/concurrency/);
    expect(() => new PrometheusScraper({ targets: () => [], metrics: ['bad name'] })).toThrow(/metrics/);
  });
});
