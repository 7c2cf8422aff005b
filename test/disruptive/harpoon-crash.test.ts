import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { type CtlplaneErrorCode, HarpoonClient, isCtlplaneError } from '@ctlplane/core';
import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, expect, it } from 'vitest';
import { create, type TestSchemas } from '../contract/event-store.fixtures.js';
import { freePort, killHarpoonProcess, startHarpoonProcess } from '../support/harpoon-child.js';
import { harpoonStack, recordPublished } from '../support/harpoon-stack.js';
import { dropPrefixed, testPool, uniquePrefix } from '../support/mysql.js';
import { describeWith } from '../support/requires.js';

const TOKEN = 'crash-test-token-0123456789';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const startHarpoon = (prefix: string, exchange: string, port: number) =>
  startHarpoonProcess({ prefix, exchange, port, token: TOKEN });

/** Create events from `callers` concurrent loops until `stop()`; returns the acknowledged ids. */
function stream(client: HarpoonClient<TestSchemas>, callers: number) {
  const acked = new Set<number>();
  let failed = 0;
  let running = true;
  const loops = Array.from({ length: callers }, async (_, c) => {
    for (let i = 0; running; i++) {
      try {
        acked.add((await client.create(create(c * 100_000 + i))).id);
      } catch {
        failed++;
        await sleep(50);
      }
    }
  });
  return {
    acked,
    failed: () => failed,
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}

/** Retryable during a crash: Harpoon unreachable, closing, or shedding load. */
const RETRYABLE: CtlplaneErrorCode[] = ['UNAVAILABLE', 'CLOSED', 'BUSY'];

/** How long one caller retries one event before it gives up (recorded as `GAVE_UP`). */
const RETRY_FOR_MS = 60_000;
/** How long after `stop()` a caller still retries the event it is on, so that it is acknowledged. */
const STOP_GRACE_MS = 15_000;

/**
 * Like `stream`, each event with an idempotency key, and a failed create retried with the same
 * key until it is acknowledged: the way a caller of the coalescing client rides out a crash. A
 * caller stops at a non-retryable error, or after retrying one event for `RETRY_FOR_MS` (or
 * `STOP_GRACE_MS` past `stop()`): the test then fails on `codes`, it does not hang.
 */
function keyedStream(client: HarpoonClient<TestSchemas>, callers: number, tag: string) {
  const acked = new Map<string, number>();
  const codes: Record<string, number> = {};
  const count = (code: string) => {
    codes[code] = (codes[code] ?? 0) + 1;
  };
  let running = true;
  let stoppedAt = Infinity;
  const loops = Array.from({ length: callers }, async (_, c) => {
    for (let i = 0; running; i++) {
      const key = `${tag}-${c}-${i}`;
      const giveUpAt = Date.now() + RETRY_FOR_MS;
      for (;;) {
        try {
          acked.set(key, (await client.create(create(i, { idempotencyKey: key }))).id);
          break;
        } catch (err) {
          const code = RETRYABLE.find((k) => isCtlplaneError(err, k));
          count(code ?? String(err));
          if (!code) return;
          if (Date.now() > Math.min(giveUpAt, stoppedAt + STOP_GRACE_MS)) {
            count('GAVE_UP');
            return;
          }
          await sleep(50);
        }
      }
    }
  });
  return {
    acked,
    codes,
    stop: async () => {
      running = false;
      stoppedAt = Math.min(stoppedAt, Date.now());
      await Promise.all(loops);
    },
  };
}

describeWith('mysql', 'Harpoon crash tests', () => {
  describeWith('amqp', 'on RabbitMQ', () => {
    const admin = testPool({ connectionLimit: 1 });
    const prefixes: string[] = [];
    afterAll(async () => {
      for (const p of prefixes) await dropPrefixed(admin, p);
      await admin.end();
    });
    const allIds = async (prefix: string) => {
      const [rows] = await admin.query<RowDataPacket[]>(`SELECT id FROM \`${prefix}events\``);
      return rows.map((r) => Number(r.id));
    };

    it('SIGKILL of the Harpoon process mid-stream loses no committed event', async () => {
      const prefix = uniquePrefix('crash');
      prefixes.push(prefix);
      const exchange = `ctl-crash-${randomBytes(3).toString('hex')}`;
      const audit = await recordPublished(exchange);
      const port = await freePort();
      let child = await startHarpoon(prefix, exchange, port);
      // One request per call: the coalescing client has its own test below.
      const client = new HarpoonClient<TestSchemas>({
        url: `http://127.0.0.1:${port}`,
        token: TOKEN,
        timeoutMs: 5_000,
        coalesce: false,
      });
      const s = stream(client, 20);
      try {
        await expect.poll(() => s.acked.size, { timeout: 60_000 }).toBeGreaterThan(500);
        child.kill('SIGKILL');
        await sleep(500);
        child = await startHarpoon(prefix, exchange, port);
        const before = s.acked.size;
        await expect.poll(() => s.acked.size, { timeout: 60_000 }).toBeGreaterThan(before + 500);
        await s.stop();
        const committed = await allIds(prefix);
        expect(committed.length).toBeGreaterThanOrEqual(s.acked.size);
        for (const id of s.acked) expect(committed).toContain(id);
        await expect
          .poll(() => committed.filter((id) => !audit.seen.has(id)).length, {
            timeout: 60_000,
            interval: 250,
          })
          .toBe(0);
        console.log(
          `harpoon SIGKILL: ${committed.length} committed (${s.acked.size} acknowledged, ${s.failed()} calls failed during the crash), 0 lost, ${audit.duplicates()} duplicates delivered`,
        );
      } finally {
        await s.stop();
        child.kill('SIGTERM');
        await audit.close();
      }
    });

    it('SIGKILL mid-stream: coalesced callers retrying with their idempotency keys lose nothing and create nothing twice', async () => {
      const prefix = uniquePrefix('crashco');
      prefixes.push(prefix);
      const exchange = `ctl-crashco-${randomBytes(3).toString('hex')}`;
      const audit = await recordPublished(exchange);
      const port = await freePort();
      let child = await startHarpoon(prefix, exchange, port);
      const client = new HarpoonClient<TestSchemas>({
        url: `http://127.0.0.1:${port}`,
        token: TOKEN,
        timeoutMs: 5_000,
        coalesce: { windowMs: 2, maxBatch: 100 },
      });
      const s = keyedStream(client, 200, prefix);
      try {
        await expect.poll(() => s.acked.size, { timeout: 60_000 }).toBeGreaterThan(2_000);
        await killHarpoonProcess(child);
        await sleep(500);
        child = await startHarpoon(prefix, exchange, port);
        const before = s.acked.size;
        await expect.poll(() => s.acked.size, { timeout: 60_000 }).toBeGreaterThan(before + 2_000);
        await s.stop();
        // Every error a caller saw during the crash was a retryable one.
        expect(Object.keys(s.codes).filter((c) => !RETRYABLE.includes(c as CtlplaneErrorCode))).toEqual([]);
        expect(s.codes.UNAVAILABLE ?? 0).toBeGreaterThan(0);
        const [rows] = await admin.query<RowDataPacket[]>(
          `SELECT id, idempotency_key AS k FROM \`${prefix}events\``,
        );
        const byKey = new Map(rows.map((r) => [String(r.k), Number(r.id)]));
        // Nothing twice: one row per key, and the keys are exactly the acknowledged ones (a retry
        // after the crash got the event an unanswered attempt had committed, not a second one).
        expect(rows.length).toBe(s.acked.size);
        for (const [key, id] of s.acked) expect(byKey.get(key)).toBe(id);
        await expect
          .poll(() => rows.filter((r) => !audit.seen.has(Number(r.id))).length, {
            timeout: 60_000,
            interval: 250,
          })
          .toBe(0);
        console.log(
          `harpoon SIGKILL, coalescing client: ${rows.length} committed = acknowledged, errors during the crash ${JSON.stringify(s.codes)}, 0 lost, 0 created twice, ${audit.duplicates()} duplicates delivered`,
        );
      } finally {
        await s.stop();
        await client.close();
        child.kill('SIGTERM');
        await audit.close();
      }
    });

    it('a 30 s RabbitMQ outage mid-stream loses no committed event', async () => {
      const prefix = uniquePrefix('outage');
      prefixes.push(prefix);
      const exchange = `ctl-outage-${randomBytes(3).toString('hex')}`;
      const audit = await recordPublished(exchange);
      const stack = await harpoonStack(prefix, exchange);
      stack.harpoon.start();
      let errors = 0;
      stack.harpoon.on('relay:error', () => errors++);
      let running = true;
      let created = 0;
      const loop = (async () => {
        while (running) {
          await Promise.all(Array.from({ length: 20 }, (_, i) => stack.harpoon.create(create(i))));
          created += 20;
          await sleep(20);
        }
      })();
      try {
        await expect.poll(() => created, { timeout: 30_000 }).toBeGreaterThan(300);
        execFileSync('rabbitmqctl', ['stop_app'], { stdio: 'ignore' });
        const during = created;
        await sleep(30_000);
        expect(created).toBeGreaterThan(during);
        execFileSync('rabbitmqctl', ['start_app'], { stdio: 'ignore' });
        await sleep(2_000);
        running = false;
        await loop;
        const committed = await allIds(prefix);
        expect(committed.length).toBe(created);
        await expect
          .poll(() => committed.filter((id) => !audit.seen.has(id)).length, {
            timeout: 120_000,
            interval: 500,
          })
          .toBe(0);
        expect(errors).toBeGreaterThan(0);
        console.log(
          `rabbitmq outage: ${committed.length} committed, ${created - during} during the outage, 0 lost, ${audit.duplicates()} duplicates, ${errors} relay retries`,
        );
      } finally {
        running = false;
        await loop.catch(() => {});
        execFileSync('rabbitmqctl', ['start_app'], { stdio: 'ignore' });
        await stack.close();
        await audit.close();
      }
    });
  });
});
