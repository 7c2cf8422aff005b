/**
 * The agent-facing side of the router: accepts connections, authenticates the hello, then serves
 * acknowledgements, heartbeats and snapshot requests. A malformed frame closes that one
 * connection with `protocol-error`; nothing an agent sends can stop the router.
 *
 * @internal
 * @module
 */
import { isCtlplaneError } from '../errors.js';
import { AgentSession } from './agent-session.js';
import { TokenError } from './auth/authenticator.js';
import { closeReasonOf } from './close-reasons.js';
import { type AgentFrame, agentFrameSchema, MAX_FRAME_BYTES, PROTOCOL_VERSION } from './protocol.js';
import type { RouterAcks } from './router-acks.js';
import type { RouterCore } from './router-core.js';
import { sendSnapshot } from './router-snapshot.js';
import type { TransportConnection } from './transport.js';

/** @internal */
export class RouterGateway {
  readonly #core: RouterCore;
  readonly #acks: RouterAcks;
  readonly #pending = new Set<AgentSession>();
  #nextId = 1;
  #sweeper: NodeJS.Timeout | null = null;
  #closed = false;

  constructor(core: RouterCore, acks: RouterAcks) {
    this.#core = core;
    this.#acks = acks;
  }

  /** Begin closing idle and silent connections. */
  start(): void {
    const every = Math.min(1_000, Math.floor(this.#core.opts.idleTimeoutMs / 3));
    this.#sweeper = setInterval(() => this.#sweep(), every);
    this.#sweeper.unref();
  }

  /** Serve one new connection. */
  accept(conn: TransportConnection): void {
    const session = new AgentSession(this.#nextId++, conn, Date.now());
    this.#pending.add(session);
    conn.bind({
      message: (text) => this.#onMessage(session, text),
      closed: (code, reason) => {
        this.#pending.delete(session);
        this.#core.ended(session, closeReasonOf(code), reason);
      },
    });
    if (this.#closed) this.#core.drop(session, 'shutdown', 'router is shutting down');
  }

  /** Close every connection with `shutdown`. */
  close(): void {
    this.#closed = true;
    if (this.#sweeper) clearInterval(this.#sweeper);
    for (const s of [...this.#pending, ...this.#core.sessions.values()]) {
      this.#core.drop(s, 'shutdown', 'router is shutting down');
    }
    this.#pending.clear();
  }

  #onMessage(session: AgentSession, text: string): void {
    if (session.state === 'closed') return;
    session.lastHeard = Date.now();
    const frame = this.#parse(session, text);
    if (!frame) return;
    switch (frame.type) {
      case 'hello':
        session.serverId = ''; // authenticating: any frame now is out of order
        void this.#hello(session, frame);
        break;
      case 'ack':
        this.#acks.receive(session, frame.acks);
        break;
      case 'heartbeat':
        this.#heartbeat(session, frame);
        break;
      case 'snapshot':
        if (session.state === 'resync-wait') void sendSnapshot(this.#core, session);
        else this.#core.drop(session, 'protocol-error', 'unexpected snapshot');
        break;
    }
  }

  /** The frame, or null when it was malformed or out of order (the session is then closed). */
  #parse(session: AgentSession, text: string): AgentFrame | null {
    const fail = (message: string): null => {
      this.#pending.delete(session);
      this.#core.drop(session, 'protocol-error', message);
      return null;
    };
    if (text.length > MAX_FRAME_BYTES) return fail(`frame larger than ${MAX_FRAME_BYTES} bytes`);
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      return fail('frame is not JSON');
    }
    const parsed = agentFrameSchema.safeParse(raw);
    if (!parsed.success) {
      const where = parsed.error.issues.map((i) => i.path.join('.') || 'frame').join(', ');
      return fail(`invalid frame at ${where}`.slice(0, 120));
    }
    const frame = parsed.data;
    if ((session.state === 'hello') !== (frame.type === 'hello') || session.serverId === '') {
      return fail(`unexpected ${frame.type} frame`);
    }
    return frame;
  }

  async #hello(session: AgentSession, frame: Extract<AgentFrame, { type: 'hello' }>): Promise<void> {
    const core = this.#core;
    const reject = (reason: 'unauthorized' | 'token-expired' | 'forbidden' | 'capacity', message: string) => {
      this.#pending.delete(session);
      core.drop(session, reason, message);
      core.log.warn('agent refused', { remoteAddress: session.conn.remoteAddress, reason, message });
      core.events.emit('router:agent:rejected', {
        remoteAddress: session.conn.remoteAddress,
        reason,
        message,
      });
    };
    let identity: Awaited<ReturnType<typeof core.opts.auth.authenticate>>;
    try {
      identity = await core.opts.auth.authenticate(frame.token);
    } catch (err) {
      if (err instanceof TokenError && (err.reason === 'expired' || err.reason === 'not-yet-valid')) {
        return reject('token-expired', err.message);
      }
      return reject('unauthorized', isCtlplaneError(err, 'UNAUTHORIZED') ? err.message : 'token refused');
    }
    if (session.state === 'closed') return;
    if (identity.region !== core.opts.region) {
      return reject('forbidden', `token is for region ${identity.region}, router serves ${core.opts.region}`);
    }
    if (identity.serverId !== frame.serverId) return reject('forbidden', 'token is for another server');
    const previous = core.sessions.get(identity.serverId);
    if (!previous && core.sessions.size >= core.opts.maxAgents) {
      return reject('capacity', `router serves its maximum of ${core.opts.maxAgents} agents`);
    }
    if (previous) core.drop(previous, 'replaced', 'a newer connection for this server');
    this.#pending.delete(session);
    session.serverId = identity.serverId;
    core.sessions.set(identity.serverId, session);
    const replay = frame.cursor === null ? null : core.history.since(identity.serverId, frame.cursor);
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
    session.resyncReason = frame.cursor === null ? 'fresh' : 'too-old';
    core.send(
      session,
      JSON.stringify({ type: 'resync', reason: session.resyncReason, oldest: core.history.oldest }),
    );
  }

  #heartbeat(session: AgentSession, frame: Extract<AgentFrame, { type: 'heartbeat' }>): void {
    const core = this.#core;
    const serverId = session.serverId!;
    const at = new Date(frame.at);
    core.events.emit('router:agent:heartbeat', { serverId, metrics: frame.metrics, at });
    try {
      core.opts.onMetrics?.(serverId, frame.metrics, at);
    } catch (err) {
      core.log.warn('metrics sink failed', { serverId, error: (err as Error)?.message });
    }
    const cursor = session.state === 'live' ? core.cursor : null;
    core.send(session, JSON.stringify({ type: 'pong', at: frame.at, cursor }));
  }

  #sweep(): void {
    const now = Date.now();
    const { helloTimeoutMs, idleTimeoutMs } = this.#core.opts;
    for (const s of this.#pending) {
      if (now - s.openedAt > helloTimeoutMs) {
        this.#pending.delete(s);
        this.#core.drop(s, 'hello-timeout', `no hello within ${helloTimeoutMs} ms`);
      }
    }
    for (const s of this.#core.sessions.values()) {
      if (now - s.lastHeard > idleTimeoutMs)
        this.#core.drop(s, 'idle-timeout', `silent for ${idleTimeoutMs} ms`);
    }
  }
}
