/**
 * The parent's side of the good client: starts good-client-proc.ts, keeps every sample it sends,
 * and cuts them into windows (one per attack) for the verdict.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { GoodSample } from './good-client-proc.js';

export type { GoodSample };

/** The good client, running. */
export class GoodClient {
  readonly samples: GoodSample[] = [];
  readonly #child;
  readonly #done: Promise<void>;
  #stopped = false;

  private constructor(child: ReturnType<typeof fork>, done: Promise<void>) {
    this.#child = child;
    this.#done = done;
  }

  /** Start it; resolves once its agent is connected and it started measuring. */
  static async start(env: Readonly<Record<string, string>>, rate: number): Promise<GoodClient> {
    const child = fork(fileURLToPath(new URL('./good-client-proc.ts', import.meta.url)), {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, ...env, ABUSE_GOOD_RATE: String(rate) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.on('error', () => {}); // IPC to a process that already exited: its exit is what counts
    let client: GoodClient | null = null;
    const samples: GoodSample[] = [];
    let resolveDone: () => void = () => {};
    const done = new Promise<void>((r) => {
      resolveDone = r;
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the good client did not start within 30 s')), 30_000);
      child.on('message', (m: { ready?: boolean; samples?: GoodSample[]; done?: boolean }) => {
        if (m.samples) (client?.samples ?? samples).push(...m.samples);
        if (m.ready) {
          clearTimeout(timer);
          resolve();
        }
        if (m.done) resolveDone();
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        resolveDone();
        reject(new Error(`the good client exited with code ${code}`));
      });
    });
    client = new GoodClient(child, done);
    client.samples.push(...samples);
    return client;
  }

  /** Samples of operations that started in [from, to). */
  window(from: number, to: number): GoodSample[] {
    return this.samples.filter((s) => s.at >= from && s.at < to);
  }

  /** Stop measuring; waits (bounded) for its last deliveries and samples. */
  async stop(): Promise<void> {
    if (this.#stopped) return this.#done;
    this.#stopped = true;
    if (this.#child.exitCode !== null || !this.#child.connected) return;
    this.#child.send({ stop: true });
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 20_000);
    await this.#done;
    clearTimeout(timer);
  }
}
