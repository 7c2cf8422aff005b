/**
 * Processes of the local cluster: detached children with pid files, bounded waits, log tails.
 */
import { execFile, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { sleep } from '@ctlplane/core';

/** Where everything of `npm run cluster` lives (`CTLPLANE_CLUSTER_DIR`). */
export const CLUSTER_DIR = process.env.CTLPLANE_CLUSTER_DIR ?? '/tmp/ctlplane-cluster';

export const say = (line: string): void => void process.stdout.write(`${line}\n`);

/** Start a detached child, its output appended to `log`; returns its pid. */
export function startDetached(
  cmd: string,
  args: readonly string[],
  o: { cwd: string; log: string; env?: NodeJS.ProcessEnv },
): number {
  const fd = openSync(o.log, 'a');
  try {
    const child = spawn(cmd, args, {
      cwd: o.cwd,
      env: o.env ?? process.env,
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    child.unref();
    if (child.pid === undefined) throw new Error(`could not start ${cmd}`);
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

/** Run a command to completion; resolves with stdout, rejects with stderr and the exit code. */
export function run(
  cmd: string,
  args: readonly string[],
  o: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      { env: o.env ?? process.env, timeout: o.timeoutMs ?? 60_000, maxBuffer: 8 << 20 },
      (err, stdout, stderr) => {
        if (err)
          reject(new Error(`${cmd} ${args.join(' ')} failed: ${String(stderr || err.message).trim()}`));
        else resolve(stdout);
      },
    );
  });
}

/** The pid in `file` when that process is alive, else undefined. */
export function livePid(file: string): number | undefined {
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  return alive(pid) ? pid : undefined;
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** An error that ends a {@link waitFor} at once (the process it waits for has exited). */
export class Fatal extends Error {}

/** Poll `check` until it returns a value, or fail after `ms` with `what` and the last error. */
export async function waitFor<T>(what: string, ms: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  let last = 'no answer yet';
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      if (e instanceof Fatal) throw e;
      last = e instanceof Error ? e.message : String(e);
    }
    if (Date.now() > deadline) throw new Error(`${what}: not reached within ${ms / 1000} s (last: ${last})`);
    await sleep(500);
  }
}

/** SIGTERM, wait up to `ms`, then SIGKILL. Resolves once the process is gone. */
export async function stopPid(pid: number, ms: number): Promise<'terminated' | 'killed'> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return 'terminated';
  }
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!alive(pid)) return 'terminated';
    await sleep(200);
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {}
  while (alive(pid)) await sleep(100);
  return 'killed';
}

/** The last lines of a log file, for an error message. */
export function tail(file: string, lines = 15): string {
  if (!existsSync(file)) return `(no ${file})`;
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}
