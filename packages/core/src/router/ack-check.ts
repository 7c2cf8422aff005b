/**
 * Acknowledgements of events the router does not hold. The router answers from memory when it
 * can: it holds every open event of its region (the open set is complete) and has read the feed
 * past every position the agent could have heard of before this session (the store's head, read
 * once after the hello and shared between agents), so an event it does not hold is not the
 * agent's. Otherwise (an incomplete open set, a feed still behind) it reads the event once through
 * the query gate, at most {@link MAX_CHECKS_PER_AGENT} at a time per agent. An unknown event and
 * another server's event get the same answer.
 *
 * @internal
 * @module
 */
import { isCtlplaneError } from '../errors.js';
import { refusal } from './ack-results.js';
import type { AgentSession } from './agent-session.js';
import type { AckFrameItem, AckResult } from './protocol.js';
import type { RouterCore } from './router-core.js';

/** @internal Acknowledgements of unknown events checked at once for one agent; more are answered `BUSY`. */
export const MAX_CHECKS_PER_AGENT = 64;

/** @internal Where a checked acknowledgement goes. */
export interface AckCheckOutcome {
  accept(session: AgentSession, ack: AckFrameItem, bytes: number): void;
  refuse(session: AgentSession, results: AckResult[]): void;
}

/**
 * @internal Check one acknowledgement of an event the router does not hold; the outcome goes to
 * `out`. False, and nothing started, when the agent has too many checks running already.
 */
export function checkUnknown(
  core: RouterCore,
  out: AckCheckOutcome,
  session: AgentSession,
  ack: AckFrameItem,
  bytes: number,
): boolean {
  if (session.checking >= MAX_CHECKS_PER_AGENT) return false;
  session.checking++;
  void decide(core, session, ack)
    .then(
      (mine) => {
        if (session.state === 'closed') return;
        if (mine) out.accept(session, ack, bytes);
        else out.refuse(session, [refusal(ack, 'UNAUTHORIZED')]);
      },
      (err: unknown) =>
        out.refuse(session, [refusal(ack, isCtlplaneError(err, 'BUSY') ? 'BUSY' : 'UNAVAILABLE')]),
    )
    .finally(() => {
      session.checking--;
    });
  return true;
}

/** True when the event is the agent's: on its server, in this region. */
async function decide(core: RouterCore, session: AgentSession, ack: AckFrameItem): Promise<boolean> {
  if (core.open.complete) {
    session.headBound ??= await core.heads.after(session.headMark);
    // The feed may have brought the event meanwhile.
    const owner = core.open.owner(ack.id);
    if (owner !== undefined) return owner === session.serverId;
    if (core.open.complete && core.cursor >= session.headBound) return false;
  }
  const e = await core.gate.run('get', () => core.opts.store.get(ack.id), true);
  return e !== null && e.serverId === session.serverId && e.region === core.opts.region;
}
