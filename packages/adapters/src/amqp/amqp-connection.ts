/**
 * The connection manager of {@link AmqpBus}: connects round-robin over the broker URLs, runs the
 * bus's setup on every new connection, and reconnects with jittered backoff when it breaks. Every
 * amqplib event that can carry an error has a listener, so a broken connection never crashes the
 * process.
 *
 * @module
 */
import { type Logger, maskSecrets, sleep } from '@ctlplane/core';
import { backoffDelay } from '@ctlplane/core/driver';
import { type ChannelModel, connect } from 'amqplib';
import { errorMessage } from './amqp-errors.js';
import type { ResolvedAmqpOptions } from './amqp-options.js';

/** @internal What the manager tells its bus. */
export interface ConnectionHooks {
  /** Runs on every new connection before it counts as connected; throw to drop it and retry. */
  setup(model: ChannelModel): Promise<void>;
  /** Setup or connect to `url` (masked) failed; the manager retries. */
  failed(error: Error, url: string): void;
  /** Connected and set up. */
  connected(url: string): void;
  /** The connection broke (or was closed). */
  disconnected(url: string, error: Error | null): void;
  /** Waiting `delayMs` before attempt `attempt`. */
  reconnecting(attempt: number, delayMs: number, error: Error): void;
  /** The broker throttles publishers, or stopped throttling. */
  blocked(reason: string | null): void;
}

/** @internal Wrap a listener so that nothing it throws can reach amqplib's frame loop. */
export function guard<A extends unknown[]>(log: Logger, what: string, fn: (...args: A) => void) {
  return (...args: A): void => {
    try {
      fn(...args);
    } catch (err) {
      log.error(`${what} listener failed`, { error: errorMessage(err) });
    }
  };
}

/** @internal Add the heartbeat to a URL unless it sets one. */
export function withHeartbeat(url: string, seconds: number): string {
  const u = new URL(url);
  if (!u.searchParams.has('heartbeat')) u.searchParams.set('heartbeat', String(seconds));
  return u.toString();
}

/** @internal Owns the one AMQP connection of a bus. */
export class AmqpConnectionManager {
  readonly #opts: ResolvedAmqpOptions;
  readonly #hooks: ConnectionHooks;
  readonly #log: Logger;
  readonly #abort = new AbortController();
  #model: ChannelModel | null = null;
  #loop: Promise<void> | null = null;
  #next = 0;

  /** @param opts - validated bus options */
  constructor(opts: ResolvedAmqpOptions, hooks: ConnectionHooks, log: Logger) {
    this.#opts = opts;
    this.#hooks = hooks;
    this.#log = log;
  }

  /** The live, set-up connection, or null during an outage. */
  get model(): ChannelModel | null {
    return this.#model;
  }

  /** Start connecting (once). */
  start(): void {
    this.#loop ??= this.#run();
  }

  /** Stop reconnecting and close the connection. */
  async close(): Promise<void> {
    this.#abort.abort();
    const model = this.#model;
    this.#model = null;
    if (model) await model.close().catch(() => {});
    await this.#loop;
  }

  async #run(): Promise<void> {
    let attempt = 0;
    while (!this.#abort.signal.aborted) {
      const url = this.#opts.urls[this.#next++ % this.#opts.urls.length]!;
      const masked = maskSecrets(url);
      let error: Error;
      let model: ChannelModel | null = null;
      try {
        model = await this.#connect(url);
        if (!model) return; // closed while connecting
        const closed = this.#watch(model, masked);
        await this.#hooks.setup(model);
        if (this.#abort.signal.aborted) {
          await model.close().catch(() => {});
          return;
        }
        this.#model = model;
        attempt = 0;
        this.#hooks.connected(masked);
        const cause = await closed;
        this.#model = null;
        this.#hooks.disconnected(masked, cause);
        error = cause ?? new Error('connection closed');
      } catch (err) {
        error = new Error(`${masked}: ${errorMessage(err)}`, { cause: err });
        if (model) void model.close().catch(() => {});
        if (!this.#abort.signal.aborted) this.#hooks.failed(error, masked);
      }
      if (this.#abort.signal.aborted) return;
      const delay = backoffDelay(attempt++, this.#opts.reconnect);
      this.#hooks.reconnecting(attempt, delay, error);
      // A ref'd wait (sleep's default): during an outage this timer is all that keeps a process
      // whose only work is this bus (a consumer) alive until the broker is back. close() aborts it.
      await sleep(delay, this.#abort.signal);
    }
  }

  /**
   * One connection attempt, or null once `close()` was called: close does not wait out an attempt
   * in flight (up to `connectTimeoutMs` on an unresponsive host); a late connection is closed.
   */
  async #connect(url: string): Promise<ChannelModel | null> {
    const signal = this.#abort.signal;
    const attempt = connect(withHeartbeat(url, this.#opts.heartbeatSeconds), {
      timeout: this.#opts.connectTimeoutMs,
      clientProperties: { connection_name: this.#opts.connectionName },
    });
    let onAbort = (): void => {};
    const aborted = new Promise<null>((resolve) => {
      onAbort = () => resolve(null);
      signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      const model = await Promise.race([attempt, aborted]);
      if (model === null) {
        attempt.then(
          (late) => {
            late.on('error', () => {});
            late.close().catch(() => {});
          },
          () => {},
        );
      }
      return model;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** Listen to every event of a connection; resolves with the error it closed with. */
  #watch(model: ChannelModel, url: string): Promise<Error | null> {
    const log = this.#log;
    model.on(
      'error',
      guard(log, 'connection error', (err: Error) =>
        log.warn('connection error', { url, error: errorMessage(err) }),
      ),
    );
    model.on(
      'blocked',
      guard(log, 'blocked', (reason: string) => this.#hooks.blocked(String(reason))),
    );
    model.on(
      'unblocked',
      guard(log, 'unblocked', () => this.#hooks.blocked(null)),
    );
    return new Promise((resolve) => {
      model.once(
        'close',
        guard(log, 'close', (err?: Error) => {
          if (this.#model === model) this.#model = null;
          resolve(err ? new Error(errorMessage(err)) : null);
        }),
      );
    });
  }
}
