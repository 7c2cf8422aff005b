/**
 * One connection of an agent to a router, from hello to close: the handshake, frames in
 * (validated), heartbeats out, and a watchdog on a silent router.
 *
 * @internal
 * @module
 */
import type { EventEmitter } from 'eventemitter3';
import { type Logger, maskSecrets } from '../../logger.js';
import { CLOSE_CODES, type CloseReason, closeReasonOf, type DisconnectReason } from '../close-reasons.js';
import { frameLimitIssue, ROUTER_FRAME_BUDGET } from '../frame-limits.js';
import {
  type AckFrameItem,
  type AgentMetrics,
  decodeEvent,
  metricsSchema,
  PROTOCOL_VERSION,
  type RouterFrame,
  routerFrameSchema,
} from '../protocol.js';
import type { TransportConnection } from '../transport.js';
import type { AgentEvents } from './agent-events.js';
import type { AgentOptions } from './agent-options.js';
import type { AgentWork } from './agent-work.js';

/** @internal The live connection, as the agent sees it. */
export interface Link {
  readonly welcomed: boolean;
  readonly routerId: string | null;
  sendAcks(acks: readonly AckFrameItem[]): void;
  close(reason: CloseReason, message: string): void;
}

/** @internal */
export interface LinkContext {
  readonly options: Pick<AgentOptions, 'token' | 'connector' | 'serverId' | 'heartbeatMs' | 'metrics'> & {
    connectTimeoutMs: number;
  };
  readonly signal: AbortSignal;
  readonly work: AgentWork;
  readonly events: EventEmitter<AgentEvents>;
  readonly log: Logger;
  cursor(): number | null;
  setCursor(cursor: number): void;
  onOpen(link: Link): void;
  onWelcome(): void;
}

/** @internal How a connection ended. */
export interface LinkEnd {
  readonly welcomed: boolean;
  readonly reason: DisconnectReason;
  readonly message: string;
}

/** @internal Connect to `url` and serve the connection until it ends. */
export async function openLink(url: string, ctx: LinkContext): Promise<LinkEnd> {
  const { options: o } = ctx;
  let conn: TransportConnection;
  let token: string;
  try {
    token = typeof o.token === 'function' ? await o.token() : o.token;
    conn = await withTimeout(o.connector.connect(url, ctx.signal), o.connectTimeoutMs);
  } catch (err) {
    const message = maskSecrets(err instanceof Error ? err.message : String(err));
    ctx.log.debug('connect failed', { url: maskSecrets(url), error: message });
    return { welcomed: false, reason: 'connection-lost', message };
  }
  return new Promise<LinkEnd>((resolve) => {
    let welcomed = false;
    let routerId: string | null = null;
    let syncing = false;
    let lastHeard = Date.now();
    let heartbeat: NodeJS.Timeout | null = null;
    let closing = false;
    const close = (reason: CloseReason, message: string): void => {
      // From here on nothing more is read from this connection, whatever is already in flight.
      closing = true;
      conn.close(CLOSE_CODES[reason], message);
    };
    const helloTimer = setTimeout(() => close('hello-timeout', 'no welcome in time'), o.connectTimeoutMs);
    const link: Link = {
      get welcomed() {
        return welcomed;
      },
      get routerId() {
        return routerId;
      },
      sendAcks: (acks) => {
        if (welcomed) conn.send(JSON.stringify({ type: 'ack', acks }));
      },
      close,
    };

    const beat = async (everyMs: number): Promise<void> => {
      if (Date.now() - lastHeard > 3 * everyMs) return close('idle-timeout', 'router silent');
      let metrics: AgentMetrics = {};
      try {
        metrics = metricsSchema.parse((await o.metrics?.()) ?? {});
      } catch (err) {
        ctx.events.emit('agent:error', { error: err instanceof Error ? err : new Error(String(err)) });
      }
      conn.send(JSON.stringify({ type: 'heartbeat', at: Date.now(), metrics }));
      ctx.events.emit('agent:heartbeat', { metrics });
    };

    const onFrame = (frame: RouterFrame): void => {
      switch (frame.type) {
        case 'welcome': {
          if (welcomed) {
            close('protocol-error', 'second welcome');
            return;
          }
          welcomed = true;
          routerId = frame.routerId;
          clearTimeout(helloTimer);
          const everyMs = o.heartbeatMs ?? frame.heartbeatMs;
          heartbeat = setInterval(() => void beat(everyMs), everyMs);
          void beat(everyMs);
          ctx.work.resend();
          ctx.events.emit('agent:connected', { url: maskSecrets(url), routerId, resumed: frame.resumed });
          ctx.onWelcome();
          return;
        }
        case 'events':
          for (const e of frame.events) ctx.work.receive(decodeEvent(e));
          if (frame.cursor > (ctx.cursor() ?? -1)) ctx.setCursor(frame.cursor);
          return;
        case 'resync':
          syncing = true;
          ctx.events.emit('agent:resync', { reason: frame.reason });
          conn.send(JSON.stringify({ type: 'snapshot' }));
          return;
        case 'snapshot':
          for (const e of frame.events) ctx.work.receive(decodeEvent(e));
          if (frame.done && frame.cursor !== null) {
            syncing = false;
            ctx.setCursor(frame.cursor);
          }
          return;
        case 'acked':
          ctx.work.results(frame.results);
          return;
        case 'pong':
          if (frame.cursor !== null && !syncing && frame.cursor > (ctx.cursor() ?? -1))
            ctx.setCursor(frame.cursor);
          return;
      }
    };

    conn.bind({
      message: (text) => {
        if (closing) return;
        lastHeard = Date.now();
        let frame: RouterFrame;
        try {
          // Bounded before it is parsed, like every frame the router reads.
          const limit = frameLimitIssue(text, ROUTER_FRAME_BUDGET);
          if (limit) throw new Error(limit);
          frame = routerFrameSchema.parse(JSON.parse(text));
        } catch (err) {
          const error = err instanceof Error ? err.message.slice(0, 200) : 'not JSON';
          ctx.log.warn('malformed frame from router', { url: maskSecrets(url), error });
          return close('protocol-error', 'malformed frame from router');
        }
        if (!welcomed && frame.type !== 'welcome')
          return close('protocol-error', `${frame.type} before welcome`);
        onFrame(frame);
      },
      closed: (code, message) => {
        clearTimeout(helloTimer);
        if (heartbeat) clearInterval(heartbeat);
        resolve({ welcomed, reason: closeReasonOf(code), message });
      },
    });
    ctx.onOpen(link);
    if (ctx.signal.aborted) return close('agent-stopped', 'agent stopping');
    conn.send(
      JSON.stringify({
        type: 'hello',
        protocol: PROTOCOL_VERSION,
        token,
        serverId: o.serverId,
        cursor: ctx.cursor(),
      }),
    );
  });
}

function withTimeout(p: Promise<TransportConnection>, ms: number): Promise<TransportConnection> {
  return new Promise<TransportConnection>((resolve, reject) => {
    let late = false;
    const t = setTimeout(() => {
      late = true;
      reject(new Error(`connect timed out after ${ms} ms`));
    }, ms);
    p.then(
      (v) => {
        clearTimeout(t);
        if (late) v.close(CLOSE_CODES['agent-stopped'], 'connect timed out');
        else resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}
