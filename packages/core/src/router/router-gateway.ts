/**
 * The agent-facing side of the router: accepts connections, authenticates the hello, then serves
 * acknowledgements, heartbeats and snapshot requests. Every frame is counted against the agent's
 * frame rate and bounded before it is parsed (a small budget before the hello), and every frame is
 * handled inside a guard: a malformed frame, or one that trips anything unforeseen, closes that one
 * connection with `protocol-error`; nothing an agent sends can stop the router.
 *
 * @internal
 * @module
 */
import { readAgentFrame } from './agent-frames.js';
import { AgentSession } from './agent-session.js';
import { closeReasonOf } from './close-reasons.js';
import type { AgentFrame } from './protocol.js';
import type { RouterAcks } from './router-acks.js';
import type { RouterCore } from './router-core.js';
import { type HelloRefusal, serveHello } from './router-hello.js';
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
    const session = new AgentSession(this.#nextId++, conn, Date.now(), this.#core.opts.maxFramesPerSecond);
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
    const now = Date.now();
    session.lastHeard = now;
    if (!session.frameRate.take(now)) {
      this.#pending.delete(session);
      const { maxFramesPerSecond } = this.#core.opts;
      this.#core.drop(session, 'rate-limited', `more than ${maxFramesPerSecond} frames per second`);
      return;
    }
    try {
      this.#handle(session, text);
    } catch (err) {
      this.#crashed(session, err);
    }
  }

  #handle(session: AgentSession, text: string): void {
    const core = this.#core;
    // Authenticating: nothing may come between the hello and the welcome.
    const read =
      session.serverId === ''
        ? { error: 'frame before welcome' }
        : readAgentFrame(text, session.state !== 'hello');
    if ('error' in read) {
      this.#fail(session, read.error);
      return;
    }
    const frame = read.frame;
    switch (frame.type) {
      case 'hello':
        session.serverId = '';
        session.headMark = core.heads.started;
        serveHello(core, session, frame, {
          refuse: (reason, message) => this.#refuse(session, reason, message),
          admitted: () => this.#pending.delete(session),
        }).catch((err: unknown) => this.#crashed(session, err));
        break;
      case 'ack':
        this.#acks.receive(session, frame.acks, Buffer.byteLength(text, 'utf8'));
        break;
      case 'heartbeat':
        this.#heartbeat(session, frame);
        break;
      case 'snapshot':
        if (session.state === 'resync-wait')
          sendSnapshot(core, session).catch((err: unknown) => this.#crashed(session, err));
        else this.#fail(session, 'unexpected snapshot');
        break;
    }
  }

  #fail(session: AgentSession, message: string): void {
    this.#pending.delete(session);
    this.#core.drop(session, 'protocol-error', message);
  }

  /** A frame no check foresaw, or a bug: this connection ends, the router serves on. */
  #crashed(session: AgentSession, err: unknown): void {
    const error = err instanceof Error ? err.message : String(err);
    this.#core.log.error('agent frame handling failed', { serverId: session.serverId, error });
    this.#fail(session, 'frame could not be handled');
  }

  #refuse(session: AgentSession, reason: HelloRefusal, message: string): void {
    const core = this.#core;
    this.#pending.delete(session);
    core.drop(session, reason, message);
    core.log.warn('agent refused', { remoteAddress: session.conn.remoteAddress, reason, message });
    core.events.emit('router:agent:rejected', { remoteAddress: session.conn.remoteAddress, reason, message });
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
