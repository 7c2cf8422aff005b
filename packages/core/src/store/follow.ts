/**
 * Following the changes feed without busy polling: wait for a local commit signal or the poll
 * interval, whichever comes first, then read everything after the cursor.
 *
 * @module
 */
import type { FeedFilter, FeedPage, StoredEvent } from '../events/model.js';

/** Options of a feed follower. */
export interface FollowOptions extends FeedFilter {
  /** Longest wait between reads when nothing committed locally (default 1,000 ms). */
  pollMs?: number;
  /**
   * Events per read (default 500); a function is asked before each read, so a consumer can size
   * its reads by what it saw (the outbox relay keeps a read of large events to a few MiB).
   */
  limit?: number | (() => number);
  /** Stops the follower. */
  signal?: AbortSignal;
}

/** @internal What a follower needs from a store. */
export interface FeedSource<E extends StoredEvent> {
  read(cursor: number, filter: FeedFilter & { limit?: number }): Promise<FeedPage<E>>;
  onCommit(listener: () => void): () => void;
  closedSignal: AbortSignal;
}

/** @internal The events to ask for in the next read. */
export function limitOf(limit: FollowOptions['limit'], fallback = 500): number {
  return typeof limit === 'function' ? limit() : (limit ?? fallback);
}

/** @internal Async iterator over feed pages; yields only non-empty pages. */
export async function* followFeed<E extends StoredEvent>(
  source: FeedSource<E>,
  from: number,
  options: FollowOptions,
): AsyncGenerator<FeedPage<E>> {
  const { pollMs = 1_000, limit = 500, signal, ...filter } = options;
  let cursor = from;
  let dirty = true;
  let wake: (() => void) | null = null;
  const poke = (): void => {
    dirty = true;
    wake?.();
  };
  const unsubscribe = source.onCommit(poke);
  signal?.addEventListener('abort', poke);
  source.closedSignal.addEventListener('abort', poke);
  const stopped = (): boolean => Boolean(signal?.aborted) || source.closedSignal.aborted;
  try {
    while (!stopped()) {
      dirty = false;
      const asked = limitOf(limit);
      const page = await source.read(cursor, { ...filter, limit: asked });
      cursor = page.cursor;
      if (page.events.length > 0) yield page;
      if (page.events.length === asked || page.more === true || dirty || stopped()) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pollMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = null;
    }
  } finally {
    unsubscribe();
    signal?.removeEventListener('abort', poke);
    source.closedSignal.removeEventListener('abort', poke);
  }
}
