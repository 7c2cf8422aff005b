/**
 * Spawning one role of the droplet cloud as a child process, waiting for its `ready` line, and
 * stopping it with SIGTERM.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../packages/examples/src/droplet-cloud/main.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** A running role process. */
export interface Child {
  readonly role: string;
  readonly metricsUrl: string;
  /** The process id (for signals such as SIGSTOP). */
  readonly pid: number;
  /** Resolves when the process has exited: its code, or null when a signal ended it. */
  readonly exited: Promise<number | null>;
  /** SIGTERM, wait (20 s, then SIGKILL); resolves with the exit code (null when killed). */
  stop(): Promise<number | null>;
}

/** Start `--role <role>` and resolve once it prints `<role>: ready`. */
export function startRole(
  role: string,
  common: readonly string[],
  env: Readonly<Record<string, string>>,
  metricsPort: number,
  say: (line: string) => void,
  timeoutMs = 60_000,
): Promise<Child> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', MAIN, '--role', role, '--metrics-port', String(metricsPort), ...common],
    { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = async (): Promise<number | null> => {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`${role} did not become ready within ${timeoutMs / 1_000}s`));
    }, timeoutMs);
    createInterface({ input: child.stderr! }).on('line', (line) => say(`[${role}!] ${line}`));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      say(`[${role}] ${line}`);
      if (line.startsWith(`${role}: ready`)) {
        clearTimeout(timer);
        resolve({
          role,
          metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
          pid: child.pid!,
          exited,
          stop,
        });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${role} exited with code ${code} before it was ready`));
    });
  });
}
