/**
 * The servers under attack, each in its own child process started as a user would start it
 * (`node --import tsx <entry>`, with the open-files limit raised to the hard limit by the shell
 * that execs it). Their output goes to a log file each; an exit nobody asked for is a crash.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { PeakSampler, rssMiB } from './rss.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Extra node flags for the servers, for diagnosis: e.g. `ABUSE_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/p'`. */
const NODE_ARGS = (process.env.ABUSE_NODE_ARGS ?? '').split(' ').filter(Boolean);

/** This process's environment without glibc's malloc settings: the deployment sets those. */
function inherited(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('MALLOC_') && k !== 'GLIBC_TUNABLES'),
  );
}

/** Every child started, killed when this process exits however it exits (no orphan keeps a port). */
const children = new Set<{ kill(sig: NodeJS.Signals): boolean }>();
process.once('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

/** One running server process. */
export class ServerProcess {
  readonly name: string;
  readonly pid: number;
  readonly url: string;
  readonly peak: PeakSampler;
  /** Exits nobody asked for. */
  crashes = 0;
  /** Lines the process wrote (stdout and stderr), for the log-flood check. */
  lines = 0;
  readonly #exited: Promise<number | null>;
  #stopping = false;

  private constructor(name: string, pid: number, url: string, exited: Promise<number | null>) {
    this.name = name;
    this.pid = pid;
    this.url = url;
    this.#exited = exited;
    this.peak = new PeakSampler(pid);
    void exited.then(() => {
      if (!this.#stopping) this.crashes++;
    });
  }

  /** True while the process runs. */
  get alive(): boolean {
    return rssMiB(this.pid) !== null && this.crashes === 0;
  }

  /** Current RSS in MiB (0 when gone). */
  rss(): number {
    return rssMiB(this.pid) ?? 0;
  }

  /**
   * Spawn `entry` (a file under scripts/abuse/servers) and resolve once it prints
   * `<name>: ready <url>`; reject when it exits first or after `timeoutMs`.
   */
  static start(o: {
    name: string;
    entry: string;
    env: Readonly<Record<string, string>>;
    logDir: string;
    timeoutMs?: number;
  }): Promise<ServerProcess> {
    const log: WriteStream = createWriteStream(join(o.logDir, `${o.name}.log`), { flags: 'a' });
    const script = fileURLToPath(new URL(`./servers/${o.entry}`, import.meta.url));
    const child = spawn(
      'bash',
      [
        '-c',
        'ulimit -n "$(ulimit -Hn)"; exec "$0" "$@"',
        process.execPath,
        ...NODE_ARGS,
        '--import',
        'tsx',
        script,
      ],
      { cwd: ROOT, env: { ...inherited(), ...o.env }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    children.add(child);
    const exited = new Promise<number | null>((resolve) =>
      child.once('exit', (code, signal) => {
        children.delete(child);
        log.write(`${new Date().toISOString()} [abuse] exited code ${code} signal ${signal}\n`);
        log.end();
        resolve(code);
      }),
    );
    return new Promise((resolve, reject) => {
      let server: ServerProcess | null = null;
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`${o.name} was not ready within ${(o.timeoutMs ?? 60_000) / 1_000} s`));
      }, o.timeoutMs ?? 60_000);
      const onLine = (line: string): void => {
        if (server) server.lines++;
        log.write(`${line}\n`);
        const m = new RegExp(`^${o.name}: ready (\\S+)`).exec(line);
        if (m && !server) {
          clearTimeout(timer);
          server = new ServerProcess(o.name, child.pid!, m[1]!, exited);
          server.#kill = (sig) => child.kill(sig);
          resolve(server);
        }
      };
      createInterface({ input: child.stdout! }).on('line', onLine);
      createInterface({ input: child.stderr! }).on('line', onLine);
      void exited.then((code) => {
        clearTimeout(timer);
        if (!server)
          reject(new Error(`${o.name} exited with code ${code} before it was ready (see its log)`));
      });
    });
  }

  #kill: (sig: NodeJS.Signals) => void = () => {};

  /** SIGTERM, then SIGKILL after 15 s; resolves with the exit code. */
  async stop(): Promise<number | null> {
    this.#stopping = true;
    this.peak.stop();
    if (this.crashes > 0) return this.#exited;
    this.#kill('SIGTERM');
    const timer = setTimeout(() => this.#kill('SIGKILL'), 15_000);
    const code = await this.#exited;
    clearTimeout(timer);
    return code;
  }
}
