/**
 * A delay that keeps the process alive while it waits (core's `sleep` does not hold the event loop
 * open, which is right inside a library and wrong at the top of a script) and ends early, without
 * throwing, when `signal` aborts.
 */
export function wait(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
