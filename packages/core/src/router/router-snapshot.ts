/**
 * Answering a resync: the agent's open events at a known cursor, from memory when the router holds
 * all of its region's open events, else read from the store through the query gate. Changes
 * dispatched while the store is read are buffered and follow the snapshot.
 *
 * @internal
 * @module
 */
import { isCtlplaneError } from '../errors.js';
import type { AgentSession } from './agent-session.js';
import { encodeEvent, encodeEventsFrame } from './protocol.js';
import type { RouterCore } from './router-core.js';

const OPEN_STATUSES = ['placed', 'claimed', 'running'] as const;
const SNAPSHOT_PAGE = 500;

/** @internal Send `session` its server's open events, then put it live. */
export async function sendSnapshot(core: RouterCore, session: AgentSession): Promise<void> {
  const serverId = session.serverId!;
  const cursor = core.cursor;
  const fromMemory = core.open.complete;
  core.counters.resyncs.total++;
  if (!fromMemory) core.counters.resyncs.fromStore++;
  core.events.emit('router:agent:resync', { serverId, reason: session.resyncReason, fromMemory });
  session.discardEvents();
  let events: string[];
  if (fromMemory) {
    events = core.open.snapshot(serverId);
  } else {
    session.state = 'syncing';
    try {
      events = await readOpen(core, serverId);
    } catch (err) {
      const message = isCtlplaneError(err, 'BUSY') ? 'router query queue is full' : 'store unavailable';
      core.drop(session, 'capacity', message);
      return;
    }
    if (session.state !== 'syncing') return;
  }
  for (let i = 0; i < events.length || i === 0; i += SNAPSHOT_PAGE) {
    const done = i + SNAPSHOT_PAGE >= events.length;
    const page = events.slice(i, i + SNAPSHOT_PAGE);
    core.sendNow(session, encodeEventsFrame('snapshot', page, done ? cursor : null, done));
  }
  core.counters.delivered += events.length;
  session.eventsSent += events.length;
  session.state = 'live';
  core.markDirty(session);
}

async function readOpen(core: RouterCore, serverId: string): Promise<string[]> {
  const out: string[] = [];
  let next: string | null = null;
  do {
    const page = await core.gate.run(
      'query',
      () =>
        core.opts.store.query({
          region: core.opts.region,
          serverId,
          status: OPEN_STATUSES,
          limit: 1_000,
          cursor: next,
        }),
      true,
    );
    for (const e of page.events) out.push(encodeEvent(e));
    next = page.nextCursor;
  } while (next !== null);
  return out;
}
