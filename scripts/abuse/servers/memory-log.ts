/**
 * A diagnostic for the abuse suite's servers: with ABUSE_MEMORY_LOG_MS set, one line of
 * `process.memoryUsage()` (MiB) every that many ms, to tell the heap from buffers and from memory
 * the allocator keeps, and the event loop's delay over that interval (p99 and max, ms), to tell a
 * blocked loop from a busy machine. Off by default.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';

export function logMemory(name: string): void {
  const every = Number(process.env.ABUSE_MEMORY_LOG_MS ?? 0);
  if (!every) return;
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const mib = (b: number): number => Math.round(b / 1024 / 1024);
  const gc = process.env.ABUSE_MEMORY_GC ? (globalThis as { gc?: () => void }).gc : undefined;
  setInterval(() => {
    gc?.();
    const m = process.memoryUsage();
    // Committed size of each V8 space: tells young-generation growth from old-space garbage.
    const spaces = getHeapSpaceStatistics()
      .filter((x) => x.space_size > 1024 * 1024)
      .map((x) => `${x.space_name.replace('_space', '')} ${mib(x.space_size)}/${mib(x.space_used_size)}`)
      .join(' ');
    process.stdout.write(
      `${name}: memory rss ${mib(m.rss)} heapTotal ${mib(m.heapTotal)} heapUsed ${mib(m.heapUsed)} external ${mib(m.external)} arrayBuffers ${mib(m.arrayBuffers)} loopDelayP99 ${Math.round(delay.percentile(99) / 1e6)} loopDelayMax ${Math.round(delay.max / 1e6)} spaces ${spaces}\n`,
    );
    delay.reset();
  }, every).unref();
}
