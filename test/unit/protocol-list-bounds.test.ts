/**
 * Lists in frames are bounded before their items are parsed. Without the bound, zod (every version,
 * GHSA-mrhx-c7xc-m3w5) collects one issue per bad item: a 1 MiB frame of `{}` items costs seconds
 * and hundreds of megabytes to refuse.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HarpoonClient, isCtlplaneError } from '@ctlplane/core';
import { describe, expect, it } from 'vitest';
import { agentFrameSchema, routerFrameSchema } from '../../packages/core/src/router/protocol.js';
import { claimSchema } from '../../packages/core/src/store/schemas.js';

const flood = Array.from({ length: 300_000 }, () => ({}));

describe('frame list bounds', () => {
  it.each([
    ['router events', () => routerFrameSchema.safeParse({ type: 'events', events: flood, cursor: 1 })],
    [
      'router snapshot',
      () => routerFrameSchema.safeParse({ type: 'snapshot', events: flood, done: true, cursor: 1 }),
    ],
    ['router acked', () => routerFrameSchema.safeParse({ type: 'acked', results: flood })],
    [
      'agent ack (bounded before this fix too)',
      () => agentFrameSchema.safeParse({ type: 'ack', acks: flood }),
    ],
    [
      'claim types (Harpoon POST /v1/claims)',
      () => claimSchema.safeParse({ owner: 'o', limit: 1, leaseMs: 1_000, types: flood }),
    ],
  ])('refuses an oversized %s list with one issue, without parsing its items', (_, parse) => {
    const r = parse();
    expect(r.success).toBe(false);
    expect(r.error!.issues).toHaveLength(1);
    expect(r.error!.issues[0]).toMatchObject({ code: 'too_big' });
  });

  it('HarpoonClient refuses an oversized list from a hostile server without parsing its items', async () => {
    const body = JSON.stringify({ events: flood, nextCursor: null });
    const server = createServer((_req, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(body),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const client = new HarpoonClient({ url: `http://127.0.0.1:${port}`, token: 'x'.repeat(32) });
      const started = performance.now();
      const err = await client.query({ status: 'pending' }).catch((e: unknown) => e);
      expect(isCtlplaneError(err, 'VALIDATION')).toBe(true);
      expect((err as { issues: unknown[] }).issues).toHaveLength(1);
      expect(performance.now() - started).toBeLessThan(3_000);
    } finally {
      server.close();
    }
  });
});
