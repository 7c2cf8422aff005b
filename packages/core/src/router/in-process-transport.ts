/**
 * The in-process transport: router and agents in one Node process (the embedded default, tests,
 * examples). Frames are still JSON text and still validated, so code that works here works over
 * the network.
 *
 * @module
 */
import { UnavailableError, ValidationError } from '../errors.js';
import type {
  ConnectionReceiver,
  TransportConnection,
  TransportConnector,
  TransportServer,
} from './transport.js';

const SCHEME = 'inproc://';

/** One end of an in-process connection. @internal */
class InProcessEnd implements TransportConnection {
  readonly remoteAddress: string;
  peer: InProcessEnd | null = null;
  /** Called once when the connection is over (the server forgets it). */
  onEnded: (() => void) | null = null;
  #receiver: ConnectionReceiver | null = null;
  #inbox: string[] = [];
  #out: string[] = [];
  #outBytes = 0;
  #scheduled = false;
  #closing: { code: number; reason: string } | null = null;
  #ended: { code: number; reason: string } | null = null;
  #endDelivered = false;

  constructor(remoteAddress: string) {
    this.remoteAddress = remoteAddress;
  }

  get bufferedAmount(): number {
    return this.#outBytes;
  }

  send(text: string): void {
    if (this.#closing || this.#ended) return;
    this.#out.push(text);
    this.#outBytes += text.length;
    this.#schedule();
  }

  close(code: number, reason: string): void {
    if (this.#closing || this.#ended) return;
    this.#closing = { code, reason };
    this.#schedule();
  }

  bind(receiver: ConnectionReceiver): void {
    this.#receiver = receiver;
    const inbox = this.#inbox;
    this.#inbox = [];
    for (const text of inbox) this.#deliver(receiver, text);
    this.#deliverEnd();
  }

  /** A frame from the peer. */
  receive(text: string): void {
    if (this.#ended) return;
    if (this.#receiver) this.#deliver(this.#receiver, text);
    else this.#inbox.push(text);
  }

  /** A receiver that throws ends this connection (1011), not the peer's flush or the process. */
  #deliver(receiver: ConnectionReceiver, text: string): void {
    try {
      receiver.message(text);
    } catch {
      this.close(1011, 'frame handling failed');
    }
  }

  /** The connection is over (either side closed it). */
  end(code: number, reason: string): void {
    if (this.#ended) return;
    this.#ended = { code, reason };
    this.onEnded?.();
    this.#out = [];
    this.#outBytes = 0;
    this.#deliverEnd();
  }

  #deliverEnd(): void {
    if (!this.#ended || !this.#receiver || this.#endDelivered || this.#inbox.length > 0) return;
    this.#endDelivered = true;
    this.#receiver.closed(this.#ended.code, this.#ended.reason);
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => this.#flush());
  }

  #flush(): void {
    this.#scheduled = false;
    const out = this.#out;
    this.#out = [];
    this.#outBytes = 0;
    for (const text of out) this.peer?.receive(text);
    const closing = this.#closing;
    if (closing) {
      this.peer?.end(closing.code, closing.reason);
      this.end(closing.code, closing.reason);
    }
  }
}

/**
 * Router and agents in one process. One instance is both the registry of router endpoints
 * (`server(name)`) and the agents' connector (`connect('inproc://name')`).
 *
 * @example
 * ```ts
 * const transport = new InProcessTransport();
 * await router.listen(transport.server('nyc1'));
 * const agent = new Agent({ connector: transport, urls: ['inproc://nyc1'], serverId, token, handlers });
 * ```
 */
export class InProcessTransport implements TransportConnector {
  readonly #servers = new Map<string, InProcessServer>();
  #next = 1;

  /** A router endpoint reachable at `inproc://<name>`. */
  server(name: string): TransportServer {
    if (!/^[\w.-]{1,100}$/.test(name)) {
      throw new ValidationError(`name: must be 1-100 word characters, dots or dashes`, [
        { path: 'name', message: 'must be 1-100 word characters, dots or dashes' },
      ]);
    }
    return new InProcessServer(name, this.#servers);
  }

  /** Connect to `inproc://<name>`. @throws UnavailableError when nothing listens there */
  async connect(url: string): Promise<TransportConnection> {
    const server = url.startsWith(SCHEME) ? this.#servers.get(url.slice(SCHEME.length)) : undefined;
    if (!server) throw new UnavailableError(`nothing listens at ${url.slice(0, 200)}`, { transient: true });
    const n = this.#next++;
    const client = new InProcessEnd(url);
    const remote = new InProcessEnd(`inproc-agent-${n}`);
    client.peer = remote;
    remote.peer = client;
    server.accept(remote);
    return client;
  }
}

class InProcessServer implements TransportServer {
  readonly url: string;
  readonly #name: string;
  readonly #registry: Map<string, InProcessServer>;
  readonly #open = new Set<InProcessEnd>();
  #accept: ((c: TransportConnection) => void) | null = null;

  constructor(name: string, registry: Map<string, InProcessServer>) {
    this.#name = name;
    this.#registry = registry;
    this.url = `${SCHEME}${name}`;
  }

  async listen(accept: (c: TransportConnection) => void): Promise<void> {
    if (this.#registry.has(this.#name)) {
      throw new UnavailableError(`something already listens at ${this.url}`);
    }
    this.#accept = accept;
    this.#registry.set(this.#name, this);
  }

  accept(end: InProcessEnd): void {
    if (!this.#accept) {
      end.close(1001, 'server closed');
      return;
    }
    this.#open.add(end);
    end.onEnded = () => this.#open.delete(end);
    this.#accept(end);
  }

  async close(): Promise<void> {
    if (this.#registry.get(this.#name) === this) this.#registry.delete(this.#name);
    this.#accept = null;
    for (const c of [...this.#open]) c.close(1001, 'server closed');
  }
}
