/**
 * The run's servers and what they need: the tables under a fresh prefix, an exchange of their
 * own, fresh tokens and agent secret; Harpoon first, then the router that reads through it.
 * A server that exits on its own is restarted so the next attack still has a target.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrate } from '@ctlplane/adapters/mysql';
import { connect } from 'amqplib';
import { createConnection } from 'mysql2/promise';
import { ServerProcess } from './harness.js';
import { ENV } from './types.js';

/**
 * glibc malloc settings docs/operations.md recommends for ctlplane's servers ("Memory"): freed
 * buffers of 128 KiB and more go back to the OS at once, and at most two arenas hold the rest.
 * With glibc's defaults the first large buffer freed raises the mmap threshold to its size, and
 * every later buffer up to that size stays in an arena after it is freed.
 */
export const TUNED_MALLOC: Readonly<Record<string, string>> = {
  MALLOC_ARENA_MAX: '2',
  MALLOC_MMAP_THRESHOLD_: '131072',
};

/** The two servers under attack. */
export type ServerName = 'harpoon' | 'router';

/** A run's deployment. */
export class AbuseDeployment {
  readonly hex = randomBytes(3).toString('hex');
  readonly prefix = `abuse_${this.hex}_`;
  readonly exchange = `ctlplane-abuse.${this.hex}`;
  readonly logDir = join(tmpdir(), `ctlplane-abuse-${this.hex}`);
  readonly secrets = {
    good: randomBytes(24).toString('hex'),
    router: randomBytes(24).toString('hex'),
    careless: randomBytes(24).toString('hex'),
    agent: randomBytes(32).toString('hex'),
  };
  readonly servers = new Map<ServerName, ServerProcess>();
  /** Restarts after a crash, by server. */
  readonly restarts: Record<ServerName, number> = { harpoon: 0, router: 0 };

  constructor(readonly o: { mysql: string; amqp: string; portBase: number; malloc: 'tuned' | 'default' }) {
    mkdirSync(this.logDir, { recursive: true });
  }

  get harpoonUrl(): string {
    return `http://127.0.0.1:${this.o.portBase}`;
  }

  get routerUrl(): string {
    return `ws://127.0.0.1:${this.o.portBase + 1}/agents`;
  }

  /** The environment every process of the run reads (servers and the good client). */
  env(): Record<string, string> {
    return {
      [ENV.mysql]: this.o.mysql,
      [ENV.amqp]: this.o.amqp,
      [ENV.prefix]: this.prefix,
      [ENV.exchange]: this.exchange,
      [ENV.harpoonUrl]: this.harpoonUrl,
      [ENV.routerUrl]: this.routerUrl,
      [ENV.goodToken]: this.secrets.good,
      [ENV.routerToken]: this.secrets.router,
      [ENV.carelessToken]: this.secrets.careless,
      [ENV.agentSecret]: this.secrets.agent,
    };
  }

  /** The servers' malloc settings (`--malloc`); empty for glibc's defaults. */
  mallocEnv(): Readonly<Record<string, string>> {
    return this.o.malloc === 'tuned' ? TUNED_MALLOC : {};
  }

  /** Migrate, start Harpoon, then the router. */
  async start(): Promise<void> {
    await migrate({ url: this.o.mysql, tablePrefix: this.prefix });
    await this.#start('harpoon');
    await this.#start('router');
  }

  /** The server, running. */
  server(name: ServerName): ServerProcess {
    const s = this.servers.get(name);
    if (!s) throw new Error(`${name} is not running`);
    return s;
  }

  /** Restart every server that exited on its own; resolves with their names. */
  async restartCrashed(): Promise<ServerName[]> {
    const out: ServerName[] = [];
    for (const [name, s] of this.servers) {
      if (s.crashes === 0) continue;
      this.restarts[name]++;
      await this.#start(name);
      out.push(name);
    }
    return out;
  }

  async #start(name: ServerName): Promise<void> {
    const port = name === 'harpoon' ? this.o.portBase : this.o.portBase + 1;
    const s = await ServerProcess.start({
      name,
      entry: `${name}-server.ts`,
      env: { ...this.env(), ...this.mallocEnv(), [ENV.port]: String(port) },
      logDir: this.logDir,
    });
    this.servers.set(name, s);
  }

  /** Stop the router, then Harpoon; resolves with `name: exit code` lines. */
  async stop(): Promise<string[]> {
    const out: string[] = [];
    for (const name of ['router', 'harpoon'] as const) {
      const s = this.servers.get(name);
      if (s) out.push(`${name}: exit ${await s.stop()}`);
    }
    return out;
  }

  /** Drop the tables and the exchanges unless `keep`; remove the logs unless `keepLogs`. */
  async cleanup(keep: boolean, keepLogs: boolean): Promise<void> {
    if (keep) return;
    const db = await createConnection({ uri: this.o.mysql });
    try {
      const [rows] = await db.query(
        'SELECT table_name AS t FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name LIKE ?',
        [`${this.prefix.replaceAll('_', '\\_')}%`],
      );
      for (const r of rows as { t: string }[]) await db.query(`DROP TABLE IF EXISTS \`${r.t}\``);
    } finally {
      await db.end();
    }
    const conn = await connect(this.o.amqp);
    try {
      const ch = await conn.createChannel();
      await ch.deleteExchange(this.exchange);
      await ch.deleteExchange(`${this.exchange}.dead-letter`);
      await ch.close();
    } finally {
      await conn.close();
    }
    if (!keepLogs) rmSync(this.logDir, { recursive: true, force: true });
  }
}
