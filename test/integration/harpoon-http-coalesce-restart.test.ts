/**
 * The coalescing HarpoonClient across a Harpoon restart mid-batch (issue #16 item 1): Harpoon on
 * MariaDB in a child process is killed while coalesced creates are in flight, some of them
 * committed but not yet answered. Every caller gets its event or an UnavailableError within its
 * timeout, and re-sending every event with its idempotency key after the restart creates none
 * twice: the unanswered ones that were committed come back as the events they created.
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

    const rows = async () => {
      const [r] = await admin.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM \`${prefix}events\``);
      return Number(r[0]!.n);
    };

    it('each caller gets its event or a retryable error; re-sent with the same keys, nothing is created twice', async () => {
      const port = await freePort();
      // Every group commit's answer held 300 ms after it committed: a kill then finds batches
      // committed whose callers have no answer yet.
      child = await startHarpoonProcess({ prefix, exchange, port, token: TOKEN, answerDelayMs: 300 });
      const client = new HarpoonClient<TestSchemas>({
        url: `http://127.0.0.1:${port}`,
        token: TOKEN,
        timeoutMs: 10_000,
        coalesce: { windowMs: 2, maxBatch: 50 },
      });
      const event = (i: number) => create(i, { idempotencyKey: `${prefix}-${i}` });
      const started = Date.now();
      let answered = 0;
      const calls = Array.from({ length: CALLS }, (_, i) =>
        client.create(event(i)).then(
          (e) => {
            answered++;
            return { ok: true as const, event: e };
          },
          (error: unknown) => ({ ok: false as const, error }),
        ),
      );
      // Killed once some calls were answered and more rows are committed than calls answered.
      await expect
        .poll(async () => answered > 0 && (await rows()) > answered, { timeout: 20_000, interval: 20 })
        .toBe(true);
      await killHarpoonProcess(child);
      const first = await Promise.all(calls);
      const committed = await rows();
      // Bounded: nobody waits past the request timeout for a dead Harpoon.
      expect(Date.now() - started).toBeLessThan(30_000);
      const failed = first.filter((r) => !r.ok);
      const done = first.filter((r) => r.ok);
      expect(done.length).toBeGreaterThan(0);
      expect(failed.length).toBeGreaterThan(0);
      for (const r of failed) expect(isCtlplaneError(r.error, 'UNAVAILABLE')).toBe(true);
      // Some calls were committed but never answered: the case the idempotency keys are for.
      expect(committed).toBeGreaterThan(done.length);

      child = await startHarpoonProcess({ prefix, exchange, port, token: TOKEN });
      const again = await Promise.all(Array.from({ length: CALLS }, (_, i) => client.create(event(i))));
      first.forEach((r, i) => {
        if (r.ok) expect(again[i]!.id).toBe((r.event as EventOf<TestSchemas>).id);
      });
      // One row per call, the unanswered-but-committed ones included (their retry got their event).
      expect(await rows()).toBe(CALLS);
      expect(new Set(again.map((e) => e.id)).size).toBe(CALLS);
      await client.close();
      console.log(
        `coalesced restart: ${done.length} answered before the kill, ${committed - done.length} committed unanswered, ${failed.length} retryable errors, ${CALLS} events after re-sending, none twice`,
      );
    });
  });
});
