import { describe } from 'vitest';
import { appendCases } from './cases/append.cases.js';
import { claimCases } from './cases/claim.cases.js';
import { feedCases } from './cases/feed.cases.js';
import { traceContextCases } from './cases/trace-context.cases.js';
import { transitionCases } from './cases/transition.cases.js';
import type { MakeStore } from './event-store.fixtures.js';

/**
 * The EventStore conformance suite. Every backend runs all of it; nothing here is forked per
 * backend. `make` returns a fresh, empty store for each test.
 */
export function describeEventStore(name: string, make: MakeStore): void {
  describe(`EventStore contract: ${name}`, () => {
    describe('append and read', () => appendCases(make));
    describe('transitions', () => transitionCases(make));
    describe('claims and leases', () => claimCases(make));
    describe('feed, queries, pruning', () => feedCases(make));
    describe('trace context', () => traceContextCases(make));
  });
}
