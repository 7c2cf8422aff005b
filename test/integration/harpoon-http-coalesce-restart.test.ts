/**
 * The coalescing HarpoonClient across a Harpoon restart mid-batch (issue #16 item 1): Harpoon on
 * MariaDB in a child process is killed while coalesced creates are in flight. Every caller gets
 * its event or a retryable UnavailableError within its timeout, and re-sending every event with
 * its idempotency key after the restart creates none twice.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { type EventOf, HarpoonClient, isCtlplaneError } from '@ctlplane/core';
import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, expect, it } from 'vitest';
import { create, type TestSchemas } from '../contract/event-store.fixtures.js';
import { freePort, killHarpoonProcess, startHarpoonProcess } from '../support/harpoon-child.js';
import { dropPrefixed, testPool, uniquePrefix } from '../support/mysql.js';
import { describeWith } from '../support/requires.js';

const TOKEN = 'coalesce-restart-token-0123456789';
const CALLS = 1_000;

describeWith('mysql', 'HarpoonClient coalescing across a Harpoon restart', () => {
  describeWith('amqp', 'on RabbitMQ', () => {
    const admin = testPool({ connectionLimit: 1 });
    const prefix = uniquePrefix('coalrst');
    const exchange = `ctl-coalrst-${randomBytes(3).toString('hex')}`;
    let child: ChildProcess | null = null;
    afterAll(async () => {
      if (child) await killHarpoonProcess(child);
      await dropPrefixed(admin, prefix);
      await admin.end();
    });

    it('each caller gets its event or a retryable error; re-sent with the same keys, nothing is created twice', async () => {
      const port = await freePort();
      // Every group commit held 300 ms: the first answers come while later batches are in flight.
      child = await startHarpoonProcess({ prefix, exchange, port, token: TOKEN, appendDelayMs: 300 });
      const client = new HarpoonClient<TestSchemas>({
        url: `http://127.0.0.1:${port}`,
        token: TOKEN,
        timeoutMs: 10_000,
        coalesce: { windowMs: 2, maxBatch: 50 },
      });
      const event = (i: number) => create(i, { idempotencyKey: `${prefix}-${i}` });
      const started = Date.now();
      let firstAnswer: () => void = () => {};
      const answered = new Promise<void>((r) => {
        firstAnswer = r;
      });
      const calls = Array.from({ length: CALLS }, (_, i) =>
        client.create(event(i)).then(
          (e) => {
            firstAnswer();
            return { ok: true as const, event: e };
          },
          (error: unknown) => ({ ok: false as const, error }),
        ),
      );
      await answered;
      await killHarpoonProcess(child);
      const first = await Promise.all(calls);
      // Bounded: nobody waits past the request timeout for a dead Harpoon.
      expect(Date.now() - started).toBeLessThan(30_000);
      const failed = first.filter((r) => !r.ok);
      const done = first.filter((r) => r.ok);
      expect(done.length).toBeGreaterThan(0);
      expect(failed.length).toBeGreaterThan(0);
      for (const r of failed) expect(isCtlplaneError(r.error, 'UNAVAILABLE')).toBe(true);

      child = await startHarpoonProcess({ prefix, exchange, port, token: TOKEN });
      const again = await Promise.all(Array.from({ length: CALLS }, (_, i) => client.create(event(i))));
      first.forEach((r, i) => {
        if (r.ok) expect(again[i]!.id).toBe((r.event as EventOf<TestSchemas>).id);
      });
      const [rows] = await admin.query<RowDataPacket[]>(
        `SELECT COUNT(*) AS n, COUNT(DISTINCT idempotency_key) AS k FROM \`${prefix}events\``,
      );
      expect(Number(rows[0]!.n)).toBe(CALLS);
      expect(Number(rows[0]!.k)).toBe(CALLS);
      expect(new Set(again.map((e) => e.id)).size).toBe(CALLS);
      await client.close();
      console.log(
        `coalesced restart: ${done.length} answered before the kill, ${failed.length} retryable errors, ${CALLS} events after re-sending, none twice`,
      );
    });
  });
});
