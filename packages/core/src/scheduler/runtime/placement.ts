/**
 * Placing a batch of events: rank each, hold its best candidate in the view, reserve all holds in
 * one fleet call (one call in flight per instance), transition the winners to `placed` in one store
 * call, and give the losers of reservation races another round on their next candidates. A refused
 * transition releases its reservation, so nothing leaks; one whose outcome is unknown keeps it.
 *
 * @internal
 * @module
 */
import type { Span } from '@opentelemetry/api';
import type { EventEmitter } from 'eventemitter3';
import { isCtlplaneError } from '../../errors.js';
import type { StoredEvent, TransitionInput, TransitionOutcome } from '../../events/model.js';
import type { TraceContext } from '../../events/trace-context.js';
import type { Fleet } from '../../fleet/fleet.js';
import type { ReleaseInput, ReserveOutcome } from '../../fleet/model.js';
import type { PlacementPipeline } from '../pipeline/pipeline.js';
import type { RequestView } from '../pipeline/types.js';
import type { Hold, ServerEntry } from '../view/server-entry.js';
import { Batcher } from './batcher.js';
import type { SchedulerEvents } from './events.js';
import {
  endScheduleSpan,
  recordConflict,
  recordRanking,
  recordRetry,
  startScheduleSpan,
  withReserveSpan,
} from './schedule-trace.js';

/** @internal An event this instance holds a lease on. */
export interface HeldEvent {
  event: StoredEvent;
  readonly request: RequestView;
  attempt: number;
  readonly since: number;
}

/** @internal What placing needs of the EventStore (any `EventStore<M>` has it). */
export interface PlacementStore {
  transitionMany(inputs: readonly TransitionInput[]): Promise<TransitionOutcome[]>;
  get(id: number): Promise<StoredEvent | null>;
}

/** @internal */
export type PlaceResult = { kind: 'placed' } | { kind: 'nofit'; reason: string } | { kind: 'dropped' };

/** @internal */
export interface PlacerDeps {
  readonly pipeline: PlacementPipeline;
  readonly fleet: Fleet;
  readonly store: PlacementStore;
  readonly owner: string;
  readonly maxConflicts: number;
  readonly reserveBatch: number;
  readonly events: EventEmitter<SchedulerEvents>;
  readonly onError: (operation: string, error: unknown) => void;
}

interface Try {
  readonly held: HeldEvent;
  /** `ctlplane.schedule`, when tracing. */
  readonly span: Span | undefined;
  /** Servers not to try again for this event (made on the first lost race). */
  tried: Set<ServerEntry> | null;
  /** Servers already given a second chance after a lost generation race. */
  again: Set<ServerEntry> | null;
  conflicts: number;
  result: PlaceResult | null;
  /** Where it was placed, for its span. */
  placedOn: { serverId: string; score: number; version: number } | null;
}

/** A per-event answer that proves the transition was not applied (as opposed to "it failed"). */
function isRefusal(error: Error): boolean {
  return (
    isCtlplaneError(error, 'CONFLICT') ||
    isCtlplaneError(error, 'NOT_FOUND') ||
    isCtlplaneError(error, 'VALIDATION')
  );
}

/** @internal */
export class Placer {
  readonly #d: PlacerDeps;
  readonly #reserve: Batcher<Hold, ReserveOutcome>;
  /** The claim count of the event behind each hold: the reservation's fencing token. */
  readonly #fences = new WeakMap<Hold, number>();
  /** The trace context of the event behind each hold, for the reservation span's links. */
  readonly #traces = new WeakMap<Hold, TraceContext>();
  /** Placements of concurrent batches share store transactions (fewer commits, same outcomes). */
  readonly #transitions: Batcher<TransitionInput, TransitionOutcome>;

  constructor(deps: PlacerDeps) {
    this.#d = deps;
    this.#reserve = new Batcher((holds) => this.#reserveBatch(holds), deps.reserveBatch, true);
    this.#transitions = new Batcher((inputs) => deps.store.transitionMany(inputs), 1_000, false);
  }

  /**
   * Place a batch; one result per event, in order. Never rejects while placements of the batch
   * are being committed: an event must not be retried while its placement may still land.
   */
  async placeBatch(helds: readonly HeldEvent[]): Promise<PlaceResult[]> {
    const { pipeline } = this.#d;
    const tries: Try[] = helds.map((held) => ({
      held,
      span: startScheduleSpan(held.event, held.attempt),
      tried: null,
      again: null,
      conflicts: 0,
      result: null,
      placedOn: null,
    }));
    const commits: Promise<void>[] = [];
    let open = tries;
    while (open.length > 0) {
      const holds: { t: Try; hold: Hold; score: number }[] = [];
      for (const t of open) {
        const { ranked, first } = pipeline.rank(t.held.request, t.tried ?? undefined);
        if (t.conflicts === 0) recordRanking(t.span, pipeline, t.held.request, ranked);
        else recordRetry(t.span, t.conflicts);
        const pick = ranked[first];
        if (!pick) {
          const reason = t.conflicts > 0 ? `lost ${t.conflicts} reservation races` : 'no server fits';
          t.result = { kind: 'nofit', reason };
          continue;
        }
        const hold = pipeline.view.hold(pick.entry, t.held.request);
        this.#fences.set(hold, t.held.event.attempts);
        if (t.held.event.traceContext) this.#traces.set(hold, t.held.event.traceContext);
        holds.push({ t, hold, score: pick.score });
      }
      if (holds.length === 0) break;
      let outcomes: ReserveOutcome[];
      try {
        outcomes = await this.#reserve.submitAll(holds.map((h) => h.hold));
      } catch (err) {
        // The fleet failed: this round's events try again later; earlier winners still commit.
        this.#d.onError('reserve', err);
        const reason = `reservation failed: ${(err as Error).message}`;
        for (const { t } of holds) t.result = { kind: 'nofit', reason };
        break;
      }
      const won: { t: Try; entry: ServerEntry; score: number }[] = [];
      open = [];
      for (const [i, { t, hold, score }] of holds.entries()) {
        const outcome = outcomes[i]!;
        if (outcome.ok) {
          won.push({ t, entry: hold.entry, score });
          continue;
        }
        recordConflict(t.span, hold.entry.id, outcome.reason);
        if (outcome.reason === 'fenced') {
          // A newer claim of this event holds its reservation: that claim places it, not this one.
          t.result = { kind: 'dropped' };
          this.#d.events.emit('scheduler:conflict', {
            eventId: t.held.event.id,
            serverId: hold.entry.id,
            reason: outcome.reason,
          });
          continue;
        }
        t.conflicts++;
        // Lost only the race (the view now holds the server's fresh state): one more try there.
        t.again ??= new Set();
        if (outcome.reason === 'conflict' && !t.again.has(hold.entry)) t.again.add(hold.entry);
        else {
          t.tried ??= new Set();
          t.tried.add(hold.entry);
        }
        this.#d.events.emit('scheduler:conflict', {
          eventId: t.held.event.id,
          serverId: hold.entry.id,
          reason: outcome.reason,
        });
        if (t.conflicts > this.#d.maxConflicts) {
          t.result = { kind: 'nofit', reason: `lost ${t.conflicts} reservation races` };
        } else open.push(t);
      }
      if (won.length > 0) commits.push(this.#commit(won));
    }
    await Promise.all(commits);
    return tries.map((t) => {
      const result = t.result ?? { kind: 'dropped' as const };
      endScheduleSpan(t.span, result, t.placedOn, t.conflicts);
      return result;
    });
  }

  /** Release reservations (e.g. of events whose placement the store refused) and refresh the view. */
  async release(keys: readonly (string | ReleaseInput)[]): Promise<void> {
    const outcomes = await this.#d.fleet.release(keys);
    for (const o of outcomes) if (o.ok) this.#d.pipeline.view.apply(o.server);
  }

  async #reserveBatch(holds: Hold[]): Promise<ReserveOutcome[]> {
    const { pipeline, fleet } = this.#d;
    const view = pipeline.view;
    const outcomes: ReserveOutcome[] = new Array(holds.length);
    const send: number[] = [];
    holds.forEach((h, i) => {
      // A hold decided on a predecessor that has since failed would be judged on a state that never was.
      if (view.isCurrent(h)) send.push(i);
      else outcomes[i] = { ok: false, key: h.key, serverId: h.entry.id, reason: 'conflict', server: null };
    });
    try {
      const res = await withReserveSpan(
        send.length,
        send.map((i) => this.#traces.get(holds[i]!)),
        () =>
          fleet.reserveChecked(
            send.map((i) => {
              const h = holds[i]!;
              return {
                key: h.key,
                serverId: h.entry.id,
                generation: h.generation,
                demand: h.demand,
                ratios: pipeline.overcommit,
                group: h.group,
                fence: this.#fences.get(h) ?? null,
              };
            }),
          ),
      );
      send.forEach((i, n) => {
        outcomes[i] = res[n]!;
      });
    } catch (err) {
      // Outcome unknown: drop the holds; a retry reuses the key, which moves any reservation made.
      for (const h of holds) view.settle(h, null);
      throw err;
    }
    for (const [i, h] of holds.entries()) view.settle(h, outcomes[i]!);
    return outcomes;
  }

  async #commit(won: readonly { t: Try; entry: ServerEntry; score: number }[]): Promise<void> {
    let outcomes: TransitionOutcome[];
    // A call that failed as a whole may still commit (the connection died during COMMIT).
    let unknown = false;
    try {
      outcomes = await this.#transitions.submitAll(
        won.map(({ t, entry }) => ({
          id: t.held.event.id,
          from: 'pending' as const,
          to: 'placed' as const,
          version: t.held.event.version,
          serverId: entry.id,
          leaseOwner: this.#d.owner,
        })),
      );
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      outcomes = won.map(() => ({ ok: false, error }));
      unknown = true;
    }
    await Promise.all(
      won.map(async (w, i) => {
        const o = outcomes[i]!;
        if (o.ok) w.t.result = this.#placed(w);
        else w.t.result = await this.#refused(w, unknown || !isRefusal(o.error));
      }),
    );
  }

  /**
   * The store refused (or may have refused) a placement: find out, and release if it did. A
   * refusal (see `isRefusal`) is certain; any other failure leaves the commit's outcome unknown, and
   * it may still land after the read-back, so then the reservation is kept: the event is either
   * placed with it, or claimed again and re-placed (which moves it), or finished (which releases it).
   */
  async #refused(w: { t: Try; entry: ServerEntry; score: number }, unknown: boolean): Promise<PlaceResult> {
    const { event, request } = w.t.held;
    let current: StoredEvent | null;
    try {
      current = await this.#d.store.get(event.id);
    } catch (err) {
      // Unknown whether the placement committed: keep the reservation (never risk overcommit).
      this.#d.onError('placement check', err);
      return { kind: 'dropped' };
    }
    // Placed where this instance reserved, and by this claim (no newer claim since): its commit landed.
    const mine = current?.attempts === event.attempts && current.serverId === w.entry.id;
    if (current && current.status !== 'pending' && mine) return this.#placed(w);
    if (unknown) {
      this.#d.onError('placement', new Error(`event ${event.id}: commit outcome unknown; reservation kept`));
      return { kind: 'dropped' };
    }
    // Only this claim's reservation: a newer claim's (a higher fence) stays where it placed the event.
    const fence = event.attempts;
    await this.release([{ key: request.id, fence }]).catch((err: unknown) => this.#d.onError('release', err));
    this.#d.events.emit('scheduler:conflict', { eventId: event.id, serverId: w.entry.id, reason: 'store' });
    return { kind: 'dropped' };
  }

  #placed({ t, entry, score }: { t: Try; entry: ServerEntry; score: number }): PlaceResult {
    t.placedOn = { serverId: entry.id, score, version: t.held.event.version + 1 };
    this.#d.events.emit('scheduler:placed', {
      eventId: t.held.event.id,
      serverId: entry.id,
      score,
      attempt: t.held.attempt,
      conflicts: t.conflicts,
      latencyMs: Date.now() - t.held.since,
    });
    return { kind: 'placed' };
  }
}
