import type { StoredEvent } from '@ctlplane/core';
import { describe, expect, it } from 'vitest';
import { BoundedMap } from '../../packages/core/src/router/bounded-map.js';
import { CursorGuard } from '../../packages/core/src/router/cursor-guard.js';
import { History } from '../../packages/core/src/router/history.js';
import { OpenSet } from '../../packages/core/src/router/open-set.js';

function event(
  id: number,
  serverId: string | null,
  status: StoredEvent['status'],
  version: number,
): StoredEvent {
  const now = new Date(0);
  return {
    id,
    type: 't',
    payload: {},
    region: 'r',
    serverId,
    status,
    attempts: 0,
    leaseOwner: null,
    leaseExpiresAt: null,
    idempotencyKey: null,
    traceContext: null,
    error: null,
    result: null,
    version,
    seq: id * 10 + version,
    createdAt: now,
    updatedAt: now,
  };
}

describe('History (resume window)', () => {
  it('replays one server’s changes after a cursor, and refuses cursors older than its window', () => {
    const h = new History(4, Infinity, 100);
    expect(h.since('a', 99)).toBeNull();
    expect(h.since('a', 100)).toEqual([]);
    h.push({ seq: 101, serverId: 'a', json: 'a1' });
    h.push({ seq: 102, serverId: 'b', json: 'b1' });
    h.push({ seq: 103, serverId: 'a', json: 'a2' });
    expect(h.since('a', 100)).toEqual(['a1', 'a2']);
    expect(h.since('a', 101)).toEqual(['a2']);
    expect(h.since('b', 100)).toEqual(['b1']);
    h.push({ seq: 104, serverId: 'b', json: 'b2' });
    h.push({ seq: 105, serverId: 'a', json: 'a3' }); // evicts 101
    expect(h.size).toBe(4);
    expect(h.oldest).toBe(101);
    expect(h.since('a', 100)).toBeNull(); // a1 is gone: resync
    expect(h.since('a', 101)).toEqual(['a2', 'a3']);
  });

  it('stays bounded and correct over many evictions', () => {
    const h = new History(100, Infinity, 0);
    for (let seq = 1; seq <= 10_000; seq++) h.push({ seq, serverId: `s${seq % 7}`, json: String(seq) });
    expect(h.size).toBe(100);
    expect(h.oldest).toBe(9_900);
    const replay = h.since('s3', 9_950)!.map(Number);
    expect(replay).toEqual(Array.from({ length: 50 }, (_, i) => 9_951 + i).filter((s) => s % 7 === 3));
  });
});

describe('OpenSet', () => {
  it('tracks open events per server, their owner and latest version', () => {
    const o = new OpenSet(10, Infinity, 10);
    o.apply(event(1, 'a', 'placed', 1), 'e1v1');
    o.apply(event(2, 'b', 'placed', 1), 'e2v1');
    o.apply(event(1, 'a', 'running', 2), 'e1v2');
    o.apply(event(3, null, 'pending', 1), 'ignored');
    expect(o.snapshot('a')).toEqual(['e1v2']);
    expect(o.owner(2)).toBe('b');
    expect(o.version(1)).toBe(2);
    expect(o.version(3)).toBeUndefined();
    o.apply(event(1, 'a', 'done', 3), 'e1v3');
    expect(o.snapshot('a')).toEqual([]);
    expect(o.owner(1)).toBe('a'); // remembered for ack checks
    expect(o.version(1)).toBe(3); // and for dropping late duplicates
    expect(o.size).toBe(1);
  });

  it('marks itself incomplete past its limit', () => {
    const o = new OpenSet(2, Infinity, 10);
    o.apply(event(1, 'a', 'placed', 1), 'x');
    o.apply(event(2, 'a', 'placed', 1), 'x');
    expect(o.complete).toBe(true);
    o.apply(event(3, 'a', 'placed', 1), 'x');
    expect(o.complete).toBe(false);
    expect(o.size).toBe(2);
  });
});

describe('BoundedMap', () => {
  it('drops the oldest entries past its limit', () => {
    const m = new BoundedMap<number, number>(3);
    for (let i = 0; i < 10; i++) m.set(i, i);
    expect([...m.keys()]).toEqual([7, 8, 9]);
    m.set(7, 70); // refresh moves it to the newest
    m.set(10, 10);
    expect([...m.keys()]).toEqual([9, 7, 10]);
  });
});

describe('CursorGuard', () => {
  it('moves the cursor only to pushed positions the store’s head confirms', async () => {
    let head = 10;
    let reads = 0;
    const advanced: number[] = [];
    const bogus: number[][] = [];
    const guard = new CursorGuard({
      everyMs: 0,
      readHead: async () => {
        reads++;
        return head;
      },
      advance: (p) => advanced.push(p),
      bogus: (p) => bogus.push([...p]),
    });
    guard.trust(10);
    expect(guard.offer(7)).toBe(7); // already vouched for
    expect(guard.offer(12)).toBeNull();
    head = 15;
    await new Promise((r) => setTimeout(r, 20));
    expect(advanced).toEqual([12]);
    expect(guard.offer(Number.MAX_SAFE_INTEGER)).toBeNull();
    await new Promise((r) => setTimeout(r, 20));
    expect(bogus).toEqual([[Number.MAX_SAFE_INTEGER]]);
    expect(advanced).toEqual([12]);
    expect(guard.trusted).toBe(15);
    expect(reads).toBe(2);
    guard.stop();
  });
});
