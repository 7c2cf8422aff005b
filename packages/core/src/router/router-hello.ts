/**
 * A hello: authenticate the token, admit the agent (one session per server, at most `maxAgents`),
 * welcome it, then resume it from its cursor or tell it to resync. A cursor resumes only when the
 * router can vouch for it: not older than its history, and not beyond the store's head (a cursor
 * from a reset feed or from another store would silently skip the agent's open events).
 *
 * @internal
 * @module
 */
import { isCtlplaneError } from '../errors.js';
import type { AgentSession } from './agent-session.js';
import { TokenError } from './auth/authenticator.js';
import { type AgentFrame, PROTOCOL_VERSION } from './protocol.js';
import type { RouterCore } from './router-core.js';

/** @internal */
export type HelloFrame = Extract<AgentFrame, { type: 'hello' }>;

/** @internal Why a hello is refused. */
export type HelloRefusal = 'unauthorized' | 'token-expired' | 'forbidden' | 'capacity';

/** @internal What the gateway does with the outcome. */
export interface HelloHost {
  refuse(reason: HelloRefusal, message: string): void;
  admitted(): void;
}

/** @internal Serve one hello; the session is welcomed or refused. */
export async function serveHello(
  core: RouterCore,
  session: AgentSession,
  frame: HelloFrame,
  host: HelloHost,
): Promise<void> {
  let identity: Awaited<ReturnType<typeof core.opts.auth.authenticate>>;
  try {
    identity = await core.opts.auth.authenticate(frame.token);
  } catch (err) {
    if (err instanceof TokenError && (err.reason === 'expired' || err.reason === 'not-yet-valid')) {
      return host.refuse('token-expired', err.message);
    }
    return host.refuse('unauthorized', isCtlplaneError(err, 'UNAUTHORIZED') ? err.message : 'token refused');
  }
  if (session.state === 'closed') return;
  if (identity.region !== core.opts.region) {
    return host.refuse(
      'forbidden',
      `token is for region ${identity.region}, router serves ${core.opts.region}`,
    );
  }
  if (identity.serverId !== frame.serverId) return host.refuse('forbidden', 'token is for another server');
  const { cursor } = frame;
  const ahead = cursor !== null && cursor > Math.max(core.cursor, core.guard.trusted);
  if (ahead && (await beyondHead(core, session, cursor))) session.resyncReason = 'ahead';
  if (isClosed(session)) return;
  // From here to the welcome nothing awaits: the session is registered and sees every change.
  const previous = core.sessions.get(identity.serverId);
  if (!previous && core.sessions.size >= core.opts.maxAgents) {
    return host.refuse('capacity', `router serves its maximum of ${core.opts.maxAgents} agents`);
  }
  if (previous) core.drop(previous, 'replaced', 'a newer connection for this server');
  host.admitted();
  session.serverId = identity.serverId;
  core.sessions.set(identity.serverId, session);
  const replay =
    cursor === null || session.resyncReason === 'ahead'
      ? null
      : core.history.since(identity.serverId, cursor);
  session.state = replay ? 'live' : 'resync-wait';
  core.send(
    session,
    JSON.stringify({
      type: 'welcome',
      protocol: PROTOCOL_VERSION,
      routerId: core.opts.id,
      region: core.opts.region,
      serverId: identity.serverId,
      cursor: core.cursor,
      resumed: replay !== null,
      heartbeatMs: core.opts.heartbeatMs,
    }),
  );
  core.log.info('agent connected', { serverId: identity.serverId, resumed: replay !== null });
  core.events.emit('router:agent:connected', {
    serverId: identity.serverId,
    sessionId: session.id,
    remoteAddress: session.conn.remoteAddress,
    resumed: replay !== null,
  });
  if (replay) {
    for (const json of replay) session.pushEvent(json, 0);
    core.markDirty(session);
    return;
  }
  if (session.resyncReason !== 'ahead') session.resyncReason = cursor === null ? 'fresh' : 'too-old';
  core.send(
    session,
    JSON.stringify({ type: 'resync', reason: session.resyncReason, oldest: core.history.oldest }),
  );
}

/** The state as it is now (after an await, not as narrowed before it). */
function isClosed(session: AgentSession): boolean {
  return session.state === 'closed';
}

/**
 * True when `cursor` is beyond the store's head, read after the hello arrived (a router behind
 * another replica is not a reason to resync: the changes in between reach it through its input).
 * When the head cannot be read, the cursor cannot be vouched for either.
 */
async function beyondHead(core: RouterCore, session: AgentSession, cursor: number): Promise<boolean> {
  try {
    const head = await core.heads.after(session.headMark);
    session.headBound = head;
    return cursor > head;
  } catch {
    return true;
  }
}
