/**
 * Hostile request targets and bodies on Harpoon's HTTP server, and what they put in its log:
 * a target `new URL` cannot parse is a 400, an oversized list is refused on the raw bytes before
 * `JSON.parse`, a caller that hangs up is not an error, and errors callers cause are rate-limited
 * (issue 13, findings 12 and 15).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { create } from '../contract/event-store.fixtures.js';
import { until } from '../support/until.js';
import { openSocket, serverPerTest, TOKEN } from './fixtures/harpoon-http-kit.js';
import { httpRequest, rawExchange, statusOf } from './fixtures/security-http.js';
import { RecordingLogger } from './fixtures/security-kit.js';

const served = serverPerTest();
afterEach(() => {
  vi.restoreAllMocks();
});

const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
const errorLines = (log: RecordingLogger) => log.lines.filter((l) => l.startsWith('error '));

describe('request targets', () => {
  it.each([['http://[zz/v1/head'], ['http://[::1/v1/head'], ['http://a:b:c/v1/head']])(
    'regression(bad-target-500): absolute-form %s is a 400 VALIDATION, not a 500',
    async (target) => {
      const log = new RecordingLogger('harpoon');
      const s = await served({}, log);
      const { reply } = await rawExchange(
        '127.0.0.1',
        s.port,
        `GET ${target} HTTP/1.1\r\nHost: x\r\n\r\n`,
        300,
      );
      // main 8d054bf: `new URL` threw outside any check: 500 INTERNAL, unauthenticated, logged as an error.
      expect(statusOf(reply), reply.slice(0, 200)).toBe(400);
      expect(reply).toContain('"code":"VALIDATION"');
      expect(errorLines(log)).toEqual([]);
      expect(await s.client.head()).toBe(0);
    },
  );
});

describe('what callers put in the log', () => {
  it('regression(abort-log-flood): a caller that hangs up mid-body is logged at debug level, not as an error', async () => {
    const log = new RecordingLogger('harpoon');
    const s = await served({}, log);
    for (let i = 0; i < 5; i++) {
      const { socket } = await openSocket(s.port);
      socket.write(
        `POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Length: 1000\r\n\r\n{"event":`,
      );
      await new Promise((r) => setTimeout(r, 20));
      socket.destroy();
    }
    await until(
      () => log.lines.filter((l) => l.includes('client went away')).length === 5,
      'five debug lines',
    );
    // main 8d054bf: five `error … request failed` lines ("aborted"), one per hang-up.
    expect(errorLines(log)).toEqual([]);
    expect(log.lines.filter((l) => l.includes('client went away')).every((l) => l.startsWith('debug '))).toBe(
      true,
    );
  });

  it('regression(abort-log-flood): errors callers cause are rate-limited: 100 failures log 20 lines, then a count', async () => {
    const log = new RecordingLogger('harpoon');
    const s = await served({}, log);
    const [e] = await s.harpoon.createMany([create(1)]);
    await s.store.close(); // every read now fails with 503 CLOSED
    const answers = await Promise.all(
      Array.from({ length: 100 }, () =>
        httpRequest(s.server.url, { method: 'GET', path: `/v1/events/${e!.id}`, headers: auth }),
      ),
    );
    expect(answers.every((a) => a.status === 503)).toBe(true);
    // main 8d054bf: one error line per failed request, 100 of them.
    expect(errorLines(log).filter((l) => l.includes('request failed'))).toHaveLength(20);
    await s.server.close();
    expect(errorLines(log).find((l) => l.includes('suppressed'))).toContain('"suppressed":80');
  });
});

describe('bodies are bounded before they are parsed', () => {
  it('regression(events-list-bound): a 4M-item events list is refused on its raw bytes, before JSON.parse', async () => {
    const s = await served();
    const body = `{"events":[${'0,'.repeat(4_000_000)}0]}`;
    const parse = vi.spyOn(JSON, 'parse');
    const r = await httpRequest(
      s.server.url,
      { method: 'POST', path: '/v1/events', headers: auth, body },
      30_000,
    );
    const parsedBytes = Math.max(0, ...parse.mock.calls.map(([text]) => String(text).length));
    parse.mockRestore();
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body)).toMatchObject({
      error: {
        code: 'VALIDATION',
        issues: [{ path: 'body', message: expect.stringContaining('10000 items') }],
      },
    });
    // main 8d054bf: the 8 MB text went through JSON.parse (350–560 ms) and zod walked 4M items.
    expect(parsedBytes).toBeLessThan(1_000);
  });

  it("5,001 events are refused by zod's bound, naming the field and the rule", async () => {
    const s = await served();
    const events = Array.from({ length: 5_001 }, (_, i) => create(i));
    const r = await httpRequest(s.server.url, {
      method: 'POST',
      path: '/v1/events',
      headers: auth,
      body: JSON.stringify({ events }),
    });
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body).error.issues[0]).toMatchObject({ path: 'events' });
    expect(r.body).toContain('5000');
    expect((await s.client.query({})).events).toEqual([]);
  });

  it('refuses a body nested deeper than any payload could be before JSON.parse, and accepts the deepest legal one', async () => {
    const s = await served();
    const nest = (n: number) => `${'['.repeat(n)}1${']'.repeat(n)}`;
    const post = (payloadNested: string) =>
      httpRequest(s.server.url, {
        method: 'POST',
        path: '/v1/events',
        headers: auth,
        body: `{"events":[{"type":"blob","region":"nyc1","payload":{"data":"x","nested":${payloadNested}}}]}`,
      });
    // The payload object is one level, `nested` adds 63: the store's 64-level limit exactly.
    expect((await post(nest(63))).status).toBe(201);
    const deep = await post(nest(100_000));
    expect(deep.status).toBe(400);
    expect(deep.body).toContain('must not nest deeper than 67 levels');
  });
});
