/**
 * The Transport port: how frames travel between an {@link EventRouter} and its agents. A transport
 * moves UTF-8 text frames in order over one connection and reports how much it has queued; the
 * router and the agent own everything else (auth, framing, limits). Adapters implement it:
 * {@link InProcessTransport} here, a WebSocket transport in `@ctlplane/adapters/ws`.
 *
 * @module
 */

/** What a connection hands its frames and its end to. */
export interface ConnectionReceiver {
  /** One text frame, in order. */
  message(text: string): void;
  /** The connection ended; called once. `code` is a close code, `reason` its text. */
  closed(code: number, reason: string): void;
}

/** One end of a connection carrying text frames. */
export interface TransportConnection {
  /** The peer's address, for logs (never credentials). */
  readonly remoteAddress: string;
  /** Bytes handed to `send` that have not reached the network (or the peer) yet. */
  readonly bufferedAmount: number;
  /** Queue one text frame. Never blocks; a frame sent after close is dropped. */
  send(text: string): void;
  /** Close with a code (4000–4999 for ctlplane reasons) and a short reason text. Idempotent. */
  close(code: number, reason: string): void;
  /**
   * Start delivering frames to `receiver`. Called once, right after the connection is handed
   * over; frames that arrived earlier are delivered then, in order.
   */
  bind(receiver: ConnectionReceiver): void;
}

/** The router's side of a transport: accepts connections and hands each to `accept`. */
export interface TransportServer {
  /** Where agents connect, e.g. `ws://127.0.0.1:7100/agents` or `inproc://nyc1`. */
  readonly url: string;
  /** Begin accepting connections. */
  listen(accept: (connection: TransportConnection) => void): Promise<void>;
  /** Stop accepting and drop every connection still open. Idempotent. */
  close(): Promise<void>;
}

/** The agent's side of a transport: opens a connection to a router URL. */
export interface TransportConnector {
  /**
   * Connect to `url`.
   *
   * @throws UnavailableError when nothing accepts at `url`
   */
  connect(url: string, signal?: AbortSignal): Promise<TransportConnection>;
}
