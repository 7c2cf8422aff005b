import { MAX_TRACESTATE_LENGTH, type StoredEvent, ValidationError } from '@ctlplane/core';
import { expect, it } from 'vitest';
import { create, type MakeStore } from '../event-store.fixtures.js';
import { useStore } from './use-store.js';

const PARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const OTHER = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00';
const VENDORS = 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE,';
/** A tracestate of exactly the longest length. */
const STATE = `${VENDORS}${'k'.repeat(MAX_TRACESTATE_LENGTH - VENDORS.length - 2)}=v`;

/** The W3C trace context of the creating caller: stored by the append, kept by every change. */
export function traceContextCases(make: MakeStore): void {
  const h = useStore(make);

  it('stores the trace context and returns it from every read', async () => {
    const { store } = h();
    const full = { traceparent: PARENT, tracestate: STATE };
    const [a, b, c] = await store.append([
      create(1, { traceContext: full }),
      create(2, { traceContext: { traceparent: OTHER } }),
      create(3),
    ]);
    expect(STATE).toHaveLength(MAX_TRACESTATE_LENGTH);
    expect([a!.traceContext, b!.traceContext, c!.traceContext]).toEqual([full, { traceparent: OTHER }, null]);
    const byId = (events: readonly StoredEvent[]) => events.map((e) => [e.id, e.traceContext]);
    const expected = [
      [a!.id, full],
      [b!.id, { traceparent: OTHER }],
      [c!.id, null],
    ];
    expect(
      await Promise.all([a, b, c].map((e) => store.get(e!.id).then((x) => [x!.id, x!.traceContext]))),
    ).toEqual(expected);
    expect(byId((await store.query({})).events)).toEqual(expected);
    expect(byId((await store.readFeed(0)).events)).toEqual(expected);
    expect(byId(await store.claim({ owner: 'w', limit: 3, leaseMs: 60_000, status: 'pending' }))).toEqual(
      expected,
    );
    // Another process's view (MySQL: a second pool, as after a restart) reads the same.
    const reader = h().peer ? await h().peer!() : store;
    expect((await reader.get(a!.id))!.traceContext).toEqual(full);
    if (reader !== store) await reader.close();
  });

  it('keeps the trace context through every transition, claim and renewal', async () => {
    const { store } = h();
    const tc = { traceparent: PARENT, tracestate: 'vendor=1' };
    const [e] = await store.append([create(1, { traceContext: tc })]);
    await store.transition({ id: e!.id, from: 'pending', to: 'placed', serverId: 'hv-1' });
    const [claimed] = await store.claim({ owner: 'w', limit: 1, leaseMs: 60_000 });
    const renewed = await store.renew(e!.id, 'w', 60_000);
    const running = await store.transition({ id: e!.id, from: 'claimed', to: 'running', leaseOwner: 'w' });
    const done = await store.transition({
      id: e!.id,
      version: running.version,
      to: 'done',
      result: { ok: 1 },
    });
    for (const x of [claimed, renewed, running, done]) expect(x!.traceContext).toEqual(tc);
    expect(done.version).toBeGreaterThan(e!.version);
    const feed = await store.readFeed(0);
    expect(feed.events.map((x) => [x.status, x.traceContext])).toEqual([['done', tc]]);
  });

  it('a retried append with the same idempotency key keeps the first trace context', async () => {
    const { store } = h();
    const [first] = await store.append([
      create(1, { idempotencyKey: 'k', traceContext: { traceparent: PARENT } }),
    ]);
    const [again] = await store.append([
      create(1, { idempotencyKey: 'k', traceContext: { traceparent: OTHER } }),
    ]);
    expect(again!.id).toBe(first!.id);
    expect(again!.traceContext).toEqual({ traceparent: PARENT });
  });

  it.each([
    [
      'a version other than 00',
      { traceparent: PARENT.replace(/^00/, 'ff') },
      'traceparent',
      /W3C traceparent/,
    ],
    ['upper case', { traceparent: PARENT.toUpperCase() }, 'traceparent', /lowercase/],
    [
      'an all-zero trace id',
      { traceparent: `00-${'0'.repeat(32)}-00f067aa0ba902b7-01` },
      'traceparent',
      /all-zero trace id/,
    ],
    [
      'an all-zero parent id',
      { traceparent: `00-${'a'.repeat(32)}-${'0'.repeat(16)}-01` },
      'traceparent',
      /all-zero parent id/,
    ],
    ['a short traceparent', { traceparent: PARENT.slice(0, 54) }, 'traceparent', /55 characters/],
    ['a long traceparent', { traceparent: `${PARENT}-00` }, 'traceparent', /55 characters/],
    ['no traceparent', { tracestate: 'a=b' }, 'traceparent', /./],
    ['a number', { traceparent: 1 }, 'traceparent', /./],
    [
      'an oversized tracestate',
      { traceparent: PARENT, tracestate: `a=${'b'.repeat(511)}` },
      'tracestate',
      /at most 512/,
    ],
    ['a non-ASCII tracestate', { traceparent: PARENT, tracestate: 'a=é' }, 'tracestate', /printable ASCII/],
    ['a control character', { traceparent: PARENT, tracestate: 'a=\n' }, 'tracestate', /printable ASCII/],
    ['an empty tracestate', { traceparent: PARENT, tracestate: '' }, 'tracestate', /must not be empty/],
    ['an unknown field', { traceparent: PARENT, baggage: 'x' }, 'baggage', /unknown field/],
  ])(
    'refuses %s with a ValidationError naming the field, storing nothing',
    async (_, traceContext, field, rule) => {
      const { store } = h();
      const err = await store.append([create(1), create(2, { traceContext })]).catch((x: unknown) => x);
      expect(err).toBeInstanceOf(ValidationError);
      const issues = (err as ValidationError).issues;
      expect(issues.map((i) => i.path)).toEqual([`[1].traceContext.${field}`]);
      expect(issues[0]!.message).toMatch(rule);
      expect((await store.query({})).events).toEqual([]);
    },
  );

  it('refuses a trace context that is not an object', async () => {
    const err = await h()
      .store.append([create(1, { traceContext: PARENT })])
      .catch((x: unknown) => x);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).issues.map((i) => i.path)).toEqual(['[0].traceContext']);
  });
}
