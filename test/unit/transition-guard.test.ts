/**
 * The compare-and-set form of a transition (`transitionGuard`, what the MySQL store runs as one
 * conditional UPDATE) must decide exactly as `planTransition` (what the memory store runs on the
 * row): the same events apply, and they end in the same state — `applyTransitionGuard`, which the
 * MySQL store uses to build the event it returns from the row it read before its UPDATE.
 */
import { EVENT_STATUSES, type StoredEvent, type TransitionInput } from '@ctlplane/core';
import { applyTransitionGuard, planTransition, transitionGuard } from '@ctlplane/core/driver';
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
    traceContext: null,
    error: r.error,
    result: r.result,
    version: r.version,
    createdAt: t,
    updatedAt: t,
  };
}

describe('transitionGuard', () => {
  it('applies to exactly the rows planTransition applies to, with the same changes', () => {
    fc.assert(
      fc.property(row, input, (r, i) => {
        const e = toEvent(r);
        const t = { id: 1, ...i } as TransitionInput;
        const plan = planTransition(e, t);
        const now = new Date('2026-12-06T01:00:00Z');
        const applied = applyTransitionGuard(transitionGuard(t), e, { seq: 9, now });
        if (plan instanceof Error || plan.kind === 'noop') expect(applied).toBeNull();
        else
          expect(applied).toEqual({ ...e, ...plan.changes, version: e.version + 1, seq: 9, updatedAt: now });
      }),
      { numRuns: 5_000 },
    );
  });
});
