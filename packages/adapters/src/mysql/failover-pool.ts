/**
 * A pool over the nodes of one Galera cluster that sends everything to one node, the writer, and
 * moves to another when the writer is lost. See {@link pickWriter} for how the writer is chosen.
 *
 * It offers the part of mysql2's `Pool` the MySQL backends use (`getConnection`, `query`,
 * `execute`, `end`, the `connection` event), so the backends run on it unchanged.
 *
 * @internal
 * @module
 */
import { EventEmitter } from 'node:events';
import { type Logger, maskSecrets, UnavailableError } from '@ctlplane/core';
import { createPool, type Pool, type PoolConnection, type PoolOptions } from 'mysql2/promise';
import { isConnectionError } from './errors.js';
import { catchUp, pickWriter, probeNode } from './writer-node.js';

/** Galera's "WSREP has not yet prepared node for application use": the node ran nothing. */
const NOT_READY = 1047;
/** A failed choice is not retried sooner than this: callers during an outage fail fast. */
const RESELECT_AFTER_MS = 250;
/**
 * Bound of a chosen Galera node's catch-up ({@link catchUp}): it lasts until the cluster evicts a
 * lost node (`evs.suspect_timeout`, 5 s by default, more on a busy host); Galera's own bound for a
 * causal read, `repl.causal_read_timeout`, is 30 s.
 */
const CATCH_UP_TIMEOUT_MS = 30_000;
/**
 * After a failed catch-up, calls fail fast this long before the next choice: it probes again and,
 * by the same rule as every other process, likely picks the same node, so callers should not queue
 * behind another wait of up to {@link CATCH_UP_TIMEOUT_MS}.
 */
const RETRY_AFTER_CATCH_UP_FAILED_MS = 5_000;

/** What every call on a closed pool fails with. */
const poolClosed = (): UnavailableError => new UnavailableError('mysql: the pool is closed');

interface Node {
  readonly index: number;
  readonly pool: Pool;
}

/** True when the error says the node is gone or unusable, so another should be chosen. */
function nodeLost(err: unknown): boolean {
  return isConnectionError(err) || (err as { errno?: number })?.errno === NOT_READY;
}

/** True when the statement surely never ran (refused connection, node not ready): safe to resend. */
function neverRan(err: unknown): boolean {
  const e = err as { code?: string; errno?: number };
  return e?.code === 'ECONNREFUSED' || e?.errno === NOT_READY;
}

/** @internal See the module comment. */
export class FailoverPool extends EventEmitter {
  readonly #urls: readonly string[];
  readonly #config: Omit<PoolOptions, 'uri'>;
  readonly #probeTimeoutMs: number;
  readonly #log: Logger;
  #node: Node | null = null;
  /** Every node's pool still open: the writer's, and a lost writer's until another is chosen. */
  readonly #pools = new Map<number, Pool>();
  #choosing: Promise<Node> | null = null;
  #failed: { at: number; error: Error; forMs: number } | null = null;
  #closed = false;
  /** Aborted by {@link end}: cancels a catch-up in progress. */
  readonly #closing = new AbortController();
  readonly #retired = new Set<Promise<void>>();

  /**
   * @param urls - the nodes (at least two)
   * @param config - mysql2 pool options for every node's pool
   * @param probeTimeoutMs - bound of one node's probe
   */
  constructor(
    urls: readonly string[],
    config: Omit<PoolOptions, 'uri'>,
    probeTimeoutMs: number,
    log: Logger,
  ) {
    super();
    this.#urls = urls;
    this.#config = config;
    this.#probeTimeoutMs = probeTimeoutMs;
    this.#log = log;
  }

  /** The writer's URL (masked), or null while none is chosen. */
  get writer(): string | null {
    return this.#node ? maskSecrets(this.#urls[this.#node.index]!) : null;
  }

  /** A connection to the writer; chooses (again) first when needed. */
  async getConnection(): Promise<PoolConnection> {
    return this.#onWriter((pool) => pool.getConnection(), true);
  }

  /** One round trip on the writer (mysql2's `pool.query`). */
  query(...args: Parameters<Pool['query']>): ReturnType<Pool['query']> {
    return this.#onWriter((pool) => pool.query(...args), false) as ReturnType<Pool['query']>;
  }

  /** One prepared statement on the writer (mysql2's `pool.execute`). */
  execute(...args: Parameters<Pool['execute']>): ReturnType<Pool['execute']> {
    return this.#onWriter((pool) => pool.execute(...args), false) as ReturnType<Pool['execute']>;
  }

  /**
   * Tell the pool that a statement on one of its connections failed: when the error means the
   * node is gone, the next call chooses the writer again.
   */
  noteError(err: unknown): void {
    if (this.#node && nodeLost(err)) this.#drop(this.#node, err);
  }

  /** Close every node's pool; later calls fail. */
  async end(): Promise<void> {
    this.#closed = true;
    this.#closing.abort();
    this.#node = null;
    for (const index of [...this.#pools.keys()]) this.#retire(index);
    await Promise.all(this.#retired);
  }

  async #onWriter<T>(fn: (pool: Pool) => Promise<T>, connecting: boolean): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const node = await this.#writer();
      try {
        return await fn(node.pool);
      } catch (err) {
        if (!nodeLost(err)) throw err;
        this.#drop(node, err);
        // Getting a connection ran nothing; a statement may have, unless the node refused it.
        if (attempt >= this.#urls.length - 1 || !(connecting || neverRan(err))) throw err;
      }
    }
  }

  #writer(): Promise<Node> {
    if (this.#closed) return Promise.reject(poolClosed());
    if (this.#node) return Promise.resolve(this.#node);
    if (this.#failed && Date.now() - this.#failed.at < this.#failed.forMs) {
      return Promise.reject(this.#failed.error);
    }
    this.#choosing ??= this.#choose().finally(() => {
      this.#choosing = null;
    });
    return this.#choosing;
  }

  async #choose(): Promise<Node> {
    const found = await Promise.all(this.#urls.map((u, i) => probeNode(u, i, this.#probeTimeoutMs)));
    const index = pickWriter(found);
    if (this.#closed) throw poolClosed();
    if (index < 0) {
      const why = found.map((n) => `${maskSecrets(this.#urls[n.index]!)}: ${n.reason ?? 'not ready'}`);
      throw this.#fail(`no node is ready for queries (${why.join('; ')})`, RESELECT_AFTER_MS, {
        nodes: why,
      });
    }
    if (found[index]!.galera) await this.#catchUp(index);
    this.#failed = null;
    // Back on the same node (one connection was killed, the node is fine): keep its pool, so the
    // calls in flight on its other connections are not cut off.
    let pool = this.#pools.get(index);
    if (!pool) {
      pool = createPool({ ...this.#config, uri: this.#urls[index]! });
      pool.on('connection', (conn) => this.emit('connection', conn));
      this.#pools.set(index, pool);
    }
    for (const other of [...this.#pools.keys()]) if (other !== index) this.#retire(other);
    const node = { index, pool };
    this.#node = node;
    this.#log.info('writer node', {
      url: maskSecrets(this.#urls[index]!),
      uptimeS: found[index]!.uptimeS,
      ready: found.filter((n) => n.ready).length,
      nodes: this.#urls.length,
    });
    return node;
  }

  /** {@link catchUp} on the chosen Galera node `index`; one that does not catch up fails the choice. */
  async #catchUp(index: number): Promise<void> {
    const url = maskSecrets(this.#urls[index]!);
    const t0 = Date.now();
    try {
      await catchUp(this.#urls[index]!, CATCH_UP_TIMEOUT_MS, this.#closing.signal);
    } catch (err) {
      if (this.#closed) throw poolClosed();
      const why = maskSecrets((err as Error)?.message ?? String(err));
      const what = `the chosen node ${url} did not catch up with the cluster (${why})`;
      throw this.#fail(what, RETRY_AFTER_CATCH_UP_FAILED_MS, { url, error: why });
    }
    if (this.#closed) throw poolClosed();
    const waitedMs = Date.now() - t0;
    // A wait of seconds is a failover waiting out the eviction of the lost node: worth an info line.
    const log = waitedMs >= 1_000 ? this.#log.info : this.#log.debug;
    log.call(this.#log, 'writer node caught up with the cluster', { url, waitedMs });
  }

  /** Record a failed choice (callers fail fast for `forMs`) and return its error. */
  #fail(what: string, forMs: number, fields: Record<string, unknown>): UnavailableError {
    const error = new UnavailableError(`mysql: ${what}`, { transient: true });
    this.#failed = { at: Date.now(), error, forMs };
    this.#log.warn('no writer node', fields);
    return error;
  }

  #drop(node: Node, err: unknown): void {
    if (this.#node !== node) return;
    this.#node = null;
    this.#log.warn('writer node lost', {
      url: maskSecrets(this.#urls[node.index]!),
      error: maskSecrets((err as Error)?.message ?? String(err)),
    });
  }

  /** End a former writer's pool in the background, with whatever it still holds. */
  #retire(index: number): void {
    const pool = this.#pools.get(index);
    if (!pool) return;
    this.#pools.delete(index);
    const ending: Promise<void> = pool
      .end()
      .catch(() => {})
      .finally(() => this.#retired.delete(ending));
    this.#retired.add(ending);
  }
}

/** @internal Pass a connection's error to its pool when that pool fails over (else nothing). */
export function noteNodeError(pool: unknown, err: unknown): void {
  if (pool instanceof FailoverPool) pool.noteError(err);
}
