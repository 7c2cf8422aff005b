/**
 * Request/response over the Node IPC channel between the router benchmark's processes, and
 * spawning a child with a raised open-files limit (10,000 sockets need 10,000+ descriptors).
 */
import { type ChildProcess, spawn } from 'node:child_process';

type Handler = (arg: unknown) => unknown;

interface Request {
  id: number;
  cmd: string;
  arg: unknown;
}
interface Reply {
  id: number;
  result?: unknown;
  error?: string;
}

/** In a child: answer the parent's calls with `handlers`. */
export function serveIpc(handlers: Record<string, Handler>): void {
  process.on('message', (m: Request) => {
    void (async () => {
      try {
        const handler = handlers[m.cmd];
        if (!handler) throw new Error(`unknown command ${m.cmd}`);
        process.send!({ id: m.id, result: await handler(m.arg) } satisfies Reply);
      } catch (err) {
        process.send!({ id: m.id, error: err instanceof Error ? err.stack : String(err) } satisfies Reply);
      }
    })();
  });
}

/** A child process spoken to over IPC. */
export class Child {
  readonly proc: ChildProcess;
  readonly #waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  readonly #ready: Promise<unknown>;
  #next = 1;

  /** Spawn `node <script> <args>` through bash, after `ulimit -n 65536` (or the hard limit when lower). */
  constructor(script: string, args: string[], env: Record<string, string> = {}) {
    this.proc = spawn(
      'bash',
      [
        '-c',
        'ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$@"',
        'bash',
        process.execPath,
        '--expose-gc',
        '--max-old-space-size=8192',
        // Diagnostics for every child, e.g. '--trace-gc' or '--cpu-prof --cpu-prof-dir=/tmp/p'.
        ...(process.env.CTLPLANE_BENCH_CHILD_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
        '--import',
        'tsx',
        script,
        ...args,
      ],
      { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...process.env, ...env } },
    );
    this.#ready = new Promise((resolve, reject) => this.#waiting.set(0, { resolve, reject }));
    this.proc.on('message', (m: Reply) => {
      const w = this.#waiting.get(m.id);
      if (!w) return;
      this.#waiting.delete(m.id);
      if (m.error) w.reject(new Error(m.error));
      else w.resolve(m.result);
    });
    this.proc.on('exit', (code) => {
      for (const w of this.#waiting.values()) w.reject(new Error(`${script} exited with ${code}`));
      this.#waiting.clear();
    });
  }

  /** Resolves once the child said it is ready. */
  ready(): Promise<unknown> {
    return this.#ready;
  }

  /** Call `cmd` in the child. */
  call<T>(cmd: string, arg?: unknown): Promise<T> {
    const id = this.#next++;
    return new Promise<T>((resolve, reject) => {
      this.#waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.proc.send({ id, cmd, arg } satisfies Request);
    });
  }

  /** Ask it to exit, then make sure it did. */
  async stop(): Promise<void> {
    await this.call('exit').catch(() => {});
    await new Promise<void>((resolve) => {
      if (this.proc.exitCode !== null) return resolve();
      const t = setTimeout(() => this.proc.kill('SIGKILL'), 10_000);
      this.proc.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
    });
  }
}

/** Percentiles and count of latency samples, in ms. */
export function summarize(samples: readonly number[]): {
  count: number;
  p50: number;
  p99: number;
  max: number;
} {
  const s = [...samples].sort((a, b) => a - b);
  const at = (p: number) =>
    s.length === 0 ? Number.NaN : s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
  return { count: s.length, p50: at(50), p99: at(99), max: s.at(-1) ?? Number.NaN };
}
