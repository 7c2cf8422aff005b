/**
 * The chaos run's verdict (scripts/chaos/report.ts): which runs pass, and how node kills count.
 */
import { describe, expect, it } from 'vitest';
import type { CheckResult } from '../../scripts/chaos/checker.js';
import type { FaultRecord } from '../../scripts/chaos/faults.js';
import { type ChaosRun, faultKinds, nodeKills, passed } from '../../scripts/chaos/report.js';

const clean: CheckResult = {
  ...{ lost: 0, double_placed: 0, overcommitted: 0, stuck: 0, phantom_done: 0 },
  ...{ duplicates_delivered: 3, double_booted: 0, unpublished: 0, leaked_reservations: 0, unreserved: 0 },
  ...{ events: 10, byStatus: { done: 10 }, examples: {} },
};
const fault = (kind: FaultRecord['kind'], target: string, error?: string): FaultRecord => ({
  ...{ at: 1, kind, target, detail: '', ms: 10 },
  ...(error ? { error } : {}),
});
const run = (o: Partial<ChaosRun>): ChaosRun => ({
  ...{ quick: true, seed: 1, command: 'npm run chaos', requests: 10, accepted: 10, abandoned: 0 },
  ...{ retries: 0, destroys: 0, durationS: 1, settleS: 1, settleLimitS: 10, crashes: {} },
  ...{ observed: { messages: 1, repeats: 0 }, check: clean, cluster: false, replication: null, load: [1] },
  feed: { seen: 10, errors: 0, gaps: [] },
  faults: [fault('kill-process', 'api')],
  ...o,
});
const nodeFaults = [
  fault('kill-galera-node', 'galera-2 (not the writer)'),
  fault('kill-galera-node', 'galera-1 (writer)', 'galera-1 Synced: not reached'),
  fault('kill-galera-node', 'galera-3 (writer)'),
  fault('kill-rabbitmq-node', 'ctl2@localhost'),
];

describe('chaos verdict', () => {
  it('counts node kills that came back, writers among the Galera ones', () => {
    expect(nodeKills(nodeFaults)).toEqual({ galera: 2, galeraWriter: 1, rabbitmq: 1 });
  });

  it('fails a run with a feed gap even when the checker is clean', () => {
    expect(passed(run({}))).toBe(true);
    expect(passed(run({ feed: { seen: 9, errors: 0, gaps: [7] } }))).toBe(false);
  });

  it('on the clusters needs a Galera writer and a RabbitMQ node killed and back', () => {
    expect(passed(run({ cluster: true }))).toBe(false);
    expect(passed(run({ cluster: true, faults: nodeFaults }))).toBe(true);
    expect(passed(run({ cluster: true, faults: nodeFaults.slice(0, 2) }))).toBe(false);
    expect(passed(run({ cluster: true, faults: nodeFaults, check: { ...clean, stuck: 1 } }))).toBe(false);
  });

  it('reports the kinds of fault each mode injects', () => {
    expect(faultKinds(true)).toContain('kill-galera-node');
    expect(faultKinds(true)).not.toContain('restart-rabbitmq');
    expect(faultKinds(false)).toContain('restart-rabbitmq');
    expect(faultKinds(false)).not.toContain('kill-rabbitmq-node');
  });
});
