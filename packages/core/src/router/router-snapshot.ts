/**
 * Answering a resync: the agent's open events at a known cursor, from memory when the router holds
 * all of its region's open events, else read from the store through the query gate. Changes
 * dispatched while the snapshot is read or sent are buffered and follow it.
 *
 * @internal
 * @module
 */
import { isCtlplaneError } from '../errors.js';
import { type AgentSession, FRAME_TARGET_BYTES } from './agent-session.js';
import { encodeEvent, encodeEventsFrame } from './protocol.js';
import type { RouterCore } from './router-core.js';

const OPEN_STATUSES = ['placed', 'claimed', 'running'] as const;
const SNAPSHOT_PAGE = 500;
/** How often a paced snapshot looks whether the agent has read enough for the next page. */
const DRAIN_POLL_MS = 10;

/**
 * @internal Send `session` its server's open events, then put it live. Pages are paced by what the
 * agent reads: one is handed to the transport only when it fits within `maxBufferedBytes` (or
 * nothing is waiting), so a snapshot larger than that bound is still delivered, and an agent that
 * stops reading is cut off with `slow-consumer` after `idleTimeoutMs`.
 */
export async function sendSnapshot(core: RouterCore, session: AgentSession): Promise<void> {
  const serverId = session.serverId!;
  const cursor = core.cursor;
  const fromMemory = core.open.complete;
  core.counters.resyncs.total++;
  if (!fromMemory) core.counters.resyncs.fromStore++;
  core.events.emit('router:agent:resync', { serverId, reason: session.resyncReason, fromMemory });
  session.discardEvents();
  // Changes from here on are buffered (within maxBufferedEvents) and follow the snapshot.
  session.state = 'syncing';
  let events: string[];
  if (fromMemory) {
    events = core.open.snapshot(serverId);
  } else {
    try {
      events = await readOpen(core, serverId);
    } catch (err) {
      const message = isCtlplaneError(err, 'BUSY') ? 'router query queue is full' : 'store unavailable';
      core.drop(session, 'capacity', message);
      return;
    }
  }
  const pages = paginate(events, Math.max(1, Math.min(FRAME_TARGET_BYTES, core.opts.maxBufferedBytes >> 1)));
  for (let i = 0; i < pages.length; i++) {
    const done = i === pages.length - 1;
    const frame = encodeEventsFrame('snapshot', pages[i]!, done ? cursor : null, done);
    if (!(await roomFor(core, session, frame.length))) return;
    core.write(session, frame);
  }
  core.counters.delivered += events.length;
  session.eventsSent += events.length;
  session.state = 'live';
  core.markDirty(session);
}

/** Pages of at most SNAPSHOT_PAGE events and about `bytes` characters (one event may exceed it); at least one page. */
function paginate(events: readonly string[], bytes: number): string[][] {
  const pages: string[][] = [];
  let page: string[] = [];
  let size = 0;
  for (const e of events) {
    if (page.length > 0 && (page.length >= SNAPSHOT_PAGE || size + e.length > bytes)) {
      pages.push(page);
      page = [];
      size = 0;
    }
    page.push(e);
    size += e.length;
  }
  pages.push(page);
  return pages;
}

/** Wait until `bytes` more fit in the agent's transport buffer; false when the session ended or was cut off. */
async function roomFor(core: RouterCore, session: AgentSession, bytes: number): Promise<boolean> {
  const { maxBufferedBytes, idleTimeoutMs } = core.opts;
  const deadline = Date.now() + idleTimeoutMs;
  for (;;) {
    if (session.state !== 'syncing') return false;
    const held = session.conn.bufferedAmount;
    if (held === 0 || held + bytes <= maxBufferedBytes) return true;
    if (Date.now() > deadline) {
      core.drop(session, 'slow-consumer', `snapshot not read within ${idleTimeoutMs} ms`);
      return false;
    }
    await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS));
  }
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
