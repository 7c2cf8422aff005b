import type { StoredEvent } from '@ctlplane/core';
import { expect, it } from 'vitest';
import { create, type MakeStore } from '../event-store.fixtures.js';
import { useStore } from './use-store.js';

export function feedCases(make: MakeStore): void {
  const h = useStore(make);

  it('delivers every change in feed order with no gaps under concurrent writers', async () => {
    const { store } = h();
    const start = await store.head();
    const seen = new Map<number, number>();
    let last = start;
    let stop = false;
    const follower = (async () => {
      let cursor = start;
      for (;;) {
        const page = await store.readFeed(cursor, { limit: 200 });
        for (const e of page.events) {
          expect(e.seq).toBeGreaterThan(last);
          last = e.seq;
          seen.set(e.id, e.version);
        }
        cursor = page.cursor;
        if (page.events.length === 0) {
          if (stop) return;
          await new Promise((r) => setTimeout(r, 2));
        }
      }
    })();
    const writer = async (w: number) => {
      for (let i = 0; i < 25; i++) {
        const batch = await store.append(Array.from({ length: 4 }, (_, j) => create(w * 1000 + i * 10 + j)));
        await store.transitionMany(
          batch
            .slice(0, 2)
            .map((e) => ({ id: e.id, version: e.version, to: 'placed' as const, serverId: `hv-${w}` })),
        );
      }
    };
    await Promise.all(Array.from({ length: 8 }, (_, w) => writer(w)));
    stop = true;
    await follower;
    const all: StoredEvent[] = [];
    for (let cursor: string | null = null; ; ) {
      const page = await store.query({ limit: 1_000, cursor });
      all.push(...page.events);
      cursor = page.nextCursor;
      if (!cursor) break;
    }
    expect(all).toHaveLength(800);
    const missing = all.filter((e) => seen.get(e.id) !== e.version).map((e) => e.id);
    expect(missing).toEqual([]);
  });

  it('filters the feed by region, server and status', async () => {
    const { store } = h();
    await store.append([
      create(1, { region: 'ams3' }),
      create(2, { region: 'sfo2', serverId: 'x' }),
      create(3, { region: 'ams3', serverId: 'y' }),
    ]);
    const ams = await store.readFeed(0, { region: 'ams3' });
    expect(ams.events.map((e) => e.region)).toEqual(['ams3', 'ams3']);
    const placed = await store.readFeed(0, { status: 'placed', region: 'ams3' });
    expect(placed.events.map((e) => e.serverId)).toEqual(['y']);
    expect((await store.readFeed(ams.cursor, { region: 'ams3' })).events).toEqual([]);
  });

  it('wakes in-process followers on commit instead of waiting for the poll', async () => {
    const { store } = h();
    const controller = new AbortController();
    const got = (async () => {
      for await (const page of store.follow(await store.head(), {
        pollMs: 60_000,
        signal: controller.signal,
      })) {
        return page.events[0]!.id;
      }
      return -1;
    })();
    await new Promise((r) => setTimeout(r, 50));
    const [e] = await store.append([create(1)]);
    const timeout = new Promise<number>((r) => setTimeout(() => r(-2), 5_000));
    expect(await Promise.race([got, timeout])).toBe(e!.id);
    controller.abort();
  });

  it('pages queries with a cursor, without duplicates or misses', async () => {
    const { store } = h();
    await store.append(
      Array.from({ length: 250 }, (_, i) => create(i, { serverId: i % 2 ? 'odd' : 'even' })),
    );
    const ids: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await store.query({ serverId: 'odd', status: 'placed', limit: 40, cursor });
      ids.push(...page.events.map((e) => e.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    expect(ids).toHaveLength(125);
    expect(new Set(ids).size).toBe(125);
    expect(pages).toBe(4);
    await expect(store.query({ cursor: 'not-a-cursor' })).rejects.toMatchObject({ code: 'VALIDATION' });
  });

  it('prunes terminal events past retention and keeps active ones', async () => {
    const { store } = h();
    const events = await store.append(Array.from({ length: 6 }, (_, i) => create(i)));
    await store.transitionMany(
      events.slice(0, 4).map((e) => ({ id: e.id, version: e.version, to: 'cancelled' as const })),
    );
    expect(await store.prune(60_000)).toBe(0);
    await new Promise((r) => setTimeout(r, 30));
    expect(await store.prune(10)).toBe(4);
    const left = await store.query({});
    expect(left.events.map((e) => e.status)).toEqual(['pending', 'pending']);
  });
}
