/**
 * The EventStore measurements of `npm run bench -- store`: append rate, claim + complete rate
 * (with double claims and deadlocks counted) and feed latency, each on any store.
 */
import { create, type TestStore } from '../../test/contract/event-store.fixtures.js';

/** A worker that found nothing waits a moment before it claims again, as any worker's poll does. */
export const EMPTY_CLAIM_PAUSE_MS = 2;
export const idle = () => new Promise((r) => setTimeout(r, EMPTY_CLAIM_PAUSE_MS));

/** Events/s appended in batches of `batch` by `concurrency` callers. */
export async function appendRate(
  store: TestStore,
  batch: number,
  total: number,
  concurrency = 4,
): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        next += batch;
        await store.append(Array.from({ length: batch }, (_, i) => create(i)));
      }
    }),
  );
  return (Math.ceil(total / batch) * batch) / ((performance.now() - t0) / 1000);
}

/** What a claim + complete run measured. */
export interface ClaimResult {
  eps: number;
  doubleClaims: number;
  unretriedDeadlocks: number;
  retriedDeadlocks: number;
  emptyClaims: number;
}

/** Append `total` events on 50 servers (not timed). */
export async function fill(store: TestStore, total: number): Promise<void> {
  for (let i = 0; i < total; i += 1_000) {
    await store.append(
      Array.from({ length: Math.min(1_000, total - i) }, (_, j) => create(j, { serverId: `hv-${j % 50}` })),
    );
  }
}

/**
 * `workers` claim batches of 50 and complete them until `total` events are done. With
 * `byServer`, each claim names a random one of the 50 servers; otherwise claims name none.
 * Run `fill` first; `measure` wraps the timed part (a profile).
 */
export async function claimRate(
  store: TestStore,
  workers: number,
  total: number,
  byServer = false,
  measure: (fn: () => Promise<void>) => Promise<unknown> = (fn) => fn(),
): Promise<ClaimResult> {
  const seen = new Set<number>();
  const r: ClaimResult = {
    eps: 0,
    doubleClaims: 0,
    unretriedDeadlocks: 0,
    retriedDeadlocks: 0,
    emptyClaims: 0,
  };
  store.on('store:retry', (e) => {
    if (/deadlock/i.test(e.error.message)) r.retriedDeadlocks++;
  });
  let done = 0;
  const t0 = performance.now();
  await measure(() =>
    Promise.all(
      Array.from({ length: workers }, async (_, w) => {
        while (done < total) {
          try {
            const serverId = byServer ? { serverId: `hv-${Math.floor(Math.random() * 50)}` } : {};
            const batch = await store.claim({ owner: `w${w}`, limit: 50, leaseMs: 60_000, ...serverId });
            if (batch.length === 0) {
              r.emptyClaims++;
              await idle();
              continue;
            }
            for (const e of batch) {
              if (seen.has(e.id)) r.doubleClaims++;
              seen.add(e.id);
            }
            await store.transitionMany(
              batch.map((e) => ({ id: e.id, version: e.version, to: 'done' as const })),
            );
            done += batch.length;
          } catch (err) {
            if (/deadlock/i.test((err as Error).message)) r.unretriedDeadlocks++;
            else throw err;
          }
        }
      }),
    ).then(() => {}),
  );
  r.eps = total / ((performance.now() - t0) / 1000);
  return r;
}

/** Latencies (ms) from commit to a follower seeing the change, at 1,000 appends/s for `seconds`. */
export async function feedLatency(
  writer: TestStore,
  reader: TestStore,
  seconds: number,
  pollMs: number,
): Promise<number[]> {
  const latencies: number[] = [];
  const controller = new AbortController();
  const follower = (async () => {
    for await (const page of reader.follow(await reader.head(), { pollMs, signal: controller.signal })) {
      const now = Date.now();
      for (const e of page.events) latencies.push(now - e.createdAt.getTime());
    }
  })();
  const end = Date.now() + seconds * 1000;
  for (let tick = Date.now(); tick < end; tick += 10) {
    await writer.append(Array.from({ length: 10 }, (_, i) => create(i)));
    const wait = tick + 10 - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  await new Promise((r) => setTimeout(r, 200));
  controller.abort();
  await follower;
  return latencies;
}
