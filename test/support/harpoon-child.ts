/**
 * Harpoon in a child process (test/integration/fixtures/harpoon-process.ts) on MariaDB and
 * RabbitMQ, serving HTTP on a port that survives its restarts: for tests that kill it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';

const fixture = resolve(import.meta.dirname, '../integration/fixtures/harpoon-process.ts');

/** A port free right now on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((res) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

/**
 * Start a Harpoon process serving `port` with `token`; resolves once it listens. `answerDelayMs`
 * holds every group commit's answer that long after it is committed, so that a kill can surely
 * find writes committed but not yet answered.
 */
export function startHarpoonProcess(o: {
  prefix: string;
  exchange: string;
  port: number;
  token: string;
  answerDelayMs?: number;
}): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', fixture, o.prefix, o.exchange, String(o.port), o.token],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, CTLPLANE_TEST_ANSWER_DELAY_MS: String(o.answerDelayMs ?? 0) },
    },
  );
  return new Promise((res, rej) => {
    child.stdout!.on('data', (b: Buffer) => {
      if (b.toString().includes('LISTENING')) res(child);
    });
    child.once('exit', (code) => rej(new Error(`harpoon exited early with ${code}`)));
  });
}

/** SIGKILL `child` and wait until it is gone (its port is then free). */
export async function killHarpoonProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await gone;
}
