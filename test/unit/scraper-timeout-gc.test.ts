/**
 * The scraper's per-request timeout fires even while garbage collection runs (issue 13,
 * finding 5): it used `AbortSignal.any([closed, AbortSignal.timeout(ms)])`, whose timeout signal
 * Node 20 can collect before it fires, leaving a scrape of a silent target hanging for good.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PrometheusScraper } from '@ctlplane/core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { keepCollecting } from '../support/gc.js';

let silent: Server;
let url = '';

beforeAll(async () => {
  // Accepts every request and never answers it.
  silent = createServer(() => {});
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/metrics`;
});
afterAll(async () => {
  silent.closeAllConnections();
  await new Promise((r) => silent.close(r));
});

it('regression(scraper-timeout-gc): a scrape of a silent target times out at timeoutMs while GC runs', async () => {
  const scraper = new PrometheusScraper({
    targets: () => Array.from({ length: 8 }, (_, i) => ({ serverId: `s${i}`, url })),
    timeoutMs: 200,
  });
  const stop = keepCollecting(10);
  try {
    const t0 = Date.now();
    const round = await Promise.race([
      scraper.scrapeOnce(),
      new Promise<null>((r) => setTimeout(() => r(null), 8_000)),
    ]);
    // main 8d054bf: the timeout was collected; the round never ended.
    expect(round).toMatchObject({ ok: 0, failed: 8 });
    expect(Date.now() - t0).toBeLessThan(5_000);
  } finally {
    stop();
    await scraper.close();
  }
});
