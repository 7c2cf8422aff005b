/**
 * The scheduler's spans: `ctlplane.schedule`, one per event of a placement batch (a child of the
 * event's stored context, so placement shows in its creator's trace), and `ctlplane.reserve`, one
 * per fleet reservation call (many events: a root linked to each). The placement's explanation
 * goes on the schedule span: the chosen server and its score, the best candidates' scores, the
 * servers each filter rejected; lost reservation races (`ctlplane.schedule.conflict`), further
 * rounds (`ctlplane.schedule.retry`) and the transition to `placed` (`ctlplane.transition`) are
 * its events. Nothing is built unless `@opentelemetry/api` is loaded, and the filter counts (a scan
 * of every known server) only for a span that records.
 *
 * @internal
 * @module
 */
import type { Span } from '@opentelemetry/api';
import type { StoredEvent } from '../../events/model.js';
import { startSpan, withSpan } from '../../tracing/tracing.js';
import type { PlacementPipeline } from '../pipeline/pipeline.js';
import type { Ranked } from '../pipeline/rank.js';
import type { RequestView } from '../pipeline/types.js';

/** Candidates whose scores the span records. */
const TOP = 3;

/** @internal Start the schedule span of one event (undefined without the API). */
export function startScheduleSpan(event: StoredEvent, attempt: number): Span | undefined {
  return startSpan('ctlplane.schedule', () => ({
    parent: event.traceContext,
    attributes: {
      'ctlplane.event.id': event.id,
      'ctlplane.event.type': event.type,
      'ctlplane.schedule.attempt': attempt,
    },
  }));
}

/**
 * @internal Record the first ranking of an event: the best candidates' ids and scores, and how many
 * servers each filter rejected (counted by the first filter that rejects each, as `explain` does).
 */
export function recordRanking(
  span: Span | undefined,
  pipeline: PlacementPipeline,
  r: RequestView,
  ranked: readonly Ranked[],
): void {
  if (!span?.isRecording()) return;
  const top = ranked.slice(0, TOP);
  span.setAttributes({
    'ctlplane.schedule.candidates': top.map((c) => c.entry.id),
    'ctlplane.schedule.candidate_scores': top.map((c) => Math.round(c.score * 100) / 100),
    'ctlplane.schedule.feasible_seen': ranked.length,
  });
  const { filters, view } = pipeline;
  const rejected = filters.map(() => 0);
  for (const e of view.entries.values()) {
    const at = filters.findIndex((f) => !f.test(e, r, view));
    if (at >= 0) rejected[at]!++;
  }
  filters.forEach((f, i) => {
    if (rejected[i]! > 0) span.setAttribute(`ctlplane.schedule.rejected.${f.name}`, rejected[i]!);
  });
}

/** @internal A lost reservation race of the event, on its span. */
export function recordConflict(span: Span | undefined, serverId: string, reason: string): void {
  span?.addEvent('ctlplane.schedule.conflict', {
    'ctlplane.server.id': serverId,
    'ctlplane.conflict.reason': reason,
  });
}

/** @internal Another round for the event after a lost race. */
export function recordRetry(span: Span | undefined, conflicts: number): void {
  span?.addEvent('ctlplane.schedule.retry', { 'ctlplane.schedule.conflicts': conflicts });
}

/** @internal End the span with the placement's outcome. */
export function endScheduleSpan(
  span: Span | undefined,
  outcome: { kind: string; reason?: string },
  placed: { serverId: string; score: number; version: number } | null,
  conflicts: number,
): void {
  if (!span) return;
  span.setAttribute('ctlplane.schedule.outcome', outcome.kind);
  span.setAttribute('ctlplane.schedule.conflicts', conflicts);
  if (outcome.reason) span.setAttribute('ctlplane.schedule.reason', outcome.reason);
  if (placed) {
    span.setAttributes({ 'ctlplane.server.id': placed.serverId, 'ctlplane.schedule.score': placed.score });
    span.addEvent('ctlplane.transition', {
      'ctlplane.transition.from': ['pending'],
      'ctlplane.transition.to': 'placed',
      'ctlplane.server.id': placed.serverId,
    });
  }
  span.end();
}

/** @internal `ctlplane.reserve`: one fleet reservation call for many events' holds. */
export function withReserveSpan<T extends readonly { ok: boolean }[]>(
  count: number,
  links: readonly (StoredEvent['traceContext'] | undefined)[],
  fn: () => Promise<T>,
): Promise<T> {
  return withSpan(
    'ctlplane.reserve',
    () => ({
      root: true,
      links: links.map((l) => l ?? null),
      attributes: { 'db.operation.name': 'reserve', 'db.operation.batch.size': count },
    }),
    async (span) => {
      const out = await fn();
      span?.setAttribute('ctlplane.reserve.refused', out.filter((o) => !o.ok).length);
      return out;
    },
  );
}
