import { afterEach, beforeEach } from 'vitest';
import type { MakeStore, StoreHandle } from '../event-store.fixtures.js';

/** A fresh store per test; returns an accessor. */
export function useStore(make: MakeStore): () => StoreHandle {
  let handle: StoreHandle | undefined;
  beforeEach(async () => {
    handle = await make();
  });
  afterEach(async () => {
    await handle?.cleanup();
    handle = undefined;
  });
  return () => {
    if (!handle) throw new Error('store not ready');
    return handle;
  };
}
