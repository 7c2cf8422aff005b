/**
 * The compare-and-set form of a transition (`transitionGuard`, what the MySQL store runs as one
 * conditional UPDATE) must decide exactly as `planTransition` (what the memory store runs on the
 * row): the same events apply, and they end in the same state.
 */
import { EVENT_STATUSES, type StoredEvent, type TransitionInput } from '@ctlplane/core';
import { planTransition, type TransitionGuard, transitionGuard } from '@ctlplane/core/driver';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const status = fc.constantFrom(...EVENT_STATUSES);
const owner = fc.constantFrom('a', 'b');
const row = fc.record({
  status,
  version: fc.integer({ min: 1, max: 3 }),
  serverId: fc.option(fc.constantFrom('hv-1', 'hv-2'), { nil: null }),
  leaseOwner: fc.option(owner, { nil: null }),
  leased: fc.boolean(),
  error: fc.option(fc.constantFrom('old error'), { nil: null }),
  result: fc.option(fc.constantFrom({ old: true }), { nil: null }),
});
const input = fc.record(
  {
    to: status,
    version: fc.integer({ min: 1, max: 3 }),
    from: fc.oneof(status, fc.uniqueArray(status, { maxLength: 3 })),
    serverId: fc.constantFrom('hv-1', 'hv-2', ''),
    leaseOwner: owner,
    error: fc.constantFrom('boom'),
    result: fc.constantFrom<TransitionInput['result']>({ ok: 1 }, null),
  },
  { requiredKeys: ['to'] },
);

function toEvent(r: {
  status: StoredEvent['status'];
  version: number;
  serverId: string | null;
  leaseOwner: string | null;
  leased: boolean;
  error: string | null;
  result: StoredEvent['result'];
}): StoredEvent {
  const t = new Date('2026-12-06T00:00:00Z');
  return {
    id: 1,
    seq: 7,
    type: 't',
    payload: {},
    region: 'r',
    serverId: r.serverId,
    status: r.status,
    attempts: 1,
    leaseOwner: r.leaseOwner,
    leaseExpiresAt: r.leased ? t : null,
    idempotencyKey: null,
    error: r.error,
    result: r.result,
    version: r.version,
    createdAt: t,
    updatedAt: t,
  };
}

/** What the conditional UPDATE does to a row: null when its WHERE does not match. */
function applyGuard(g: TransitionGuard, e: StoredEvent) {
  if (!g.from.includes(e.status)) return null;
  if (g.version !== undefined && g.version !== e.version) return null;
  if (g.leaseOwner !== undefined && g.leaseOwner !== e.leaseOwner) return null;
  return {
    status: g.status,
    serverId: g.serverId ?? e.serverId,
    leaseOwner: g.clearLease ? null : e.leaseOwner,
    leaseExpiresAt: g.clearLease ? null : e.leaseExpiresAt,
    error: g.error ?? e.error,
    result: g.result ?? e.result,
  };
}

describe('transitionGuard', () => {
  it('applies to exactly the rows planTransition applies to, with the same changes', () => {
    fc.assert(
      fc.property(row, input, (r, i) => {
        const e = toEvent(r);
        const t = { id: 1, ...i } as TransitionInput;
        const plan = planTransition(e, t);
        const applied = applyGuard(transitionGuard(t), e);
        if (plan instanceof Error || plan.kind === 'noop') expect(applied).toBeNull();
        else expect(applied).toEqual(plan.changes);
      }),
      { numRuns: 5_000 },
    );
  });
});
