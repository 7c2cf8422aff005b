/**
 * The chaos run's MariaDB side: one user per kind of client (so a fault can kill exactly the
 * connections of Harpoon, the direct router or the schedulers' fleet pools), the tables, and the
 * `KILL CONNECTION` fault. On a Galera cluster the users and tables replicate to every node, each
 * client's URL is the list of all nodes, and the fault kills the client's connections on every node.
 */
import { randomBytes } from 'node:crypto';
import { migrate } from '@ctlplane/adapters/mysql';
import { createConnection, type RowDataPacket } from 'mysql2/promise';
import { type AdminDb, openAdmin } from './admin.js';

/** The clients a fault can cut off from MariaDB. */
export const DB_CLIENTS = ['harpoon', 'router', 'fleet'] as const;
/** One of {@link DB_CLIENTS}. */
export type DbClient = (typeof DB_CLIENTS)[number];

/** The MariaDB user of a client. */
export const dbUser = (client: DbClient): string => `chaos_${client}`;

/** Admin connection, per-client URLs, and the tables migrated. */
export interface ChaosDatabase {
  readonly admin: AdminDb;
  /** Per client, the URL(s) to give its processes' `--mysql` (comma-separated on a cluster). */
  readonly urls: Readonly<Record<DbClient, string>>;
  /** `KILL CONNECTION` every connection of `client`; resolves with how many were killed. */
  killConnections(client: DbClient): Promise<number>;
  close(): Promise<void>;
}

/** Create (or reset) the users with fresh passwords, and apply the migrations under `prefix`. */
export async function openChaosDatabase(
  adminUrls: readonly string[],
  prefix: string,
): Promise<ChaosDatabase> {
  const admin = openAdmin(adminUrls);
  const db = new URL(adminUrls[0]!).pathname.slice(1) || 'test';
  const urls = {} as Record<DbClient, string>;
  for (const client of DB_CLIENTS) {
    const user = dbUser(client);
    const password = randomBytes(12).toString('hex');
    await admin.query('CREATE USER IF NOT EXISTS ?@? IDENTIFIED BY ?', [user, '%', password]);
    await admin.query('ALTER USER ?@? IDENTIFIED BY ?', [user, '%', password]);
    await admin.query(`GRANT ALL ON \`${db}\`.* TO ?@?`, [user, '%']);
    urls[client] = adminUrls
      .map((adminUrl) => {
        const url = new URL(adminUrl);
        url.username = user;
        url.password = password;
        return url.toString();
      })
      .join(',');
  }
  await migrate({ url: adminUrls[0]!, tablePrefix: prefix });
  return {
    admin,
    urls,
    killConnections: async (client) => {
      let killed = 0;
      for (const url of adminUrls) killed += await killOn(url, dbUser(client));
      return killed;
    },
    close: () => admin.end(),
  };
}

/** `KILL CONNECTION` every connection of `user` on the node of `url`; 0 when it does not answer. */
async function killOn(url: string, user: string): Promise<number> {
  let conn: Awaited<ReturnType<typeof createConnection>>;
  try {
    conn = await createConnection({ uri: url, connectTimeout: 2_000 });
  } catch {
    return 0; // a node that is down has no connections to kill
  }
  try {
    const [rows] = await conn.query<RowDataPacket[]>(
      'SELECT id FROM information_schema.processlist WHERE user = ?',
      [user],
    );
    let killed = 0;
    for (const r of rows) {
      try {
        await conn.query(`KILL CONNECTION ${Number(r.id)}`);
        killed++;
      } catch {
        // it ended on its own meanwhile
      }
    }
    return killed;
  } finally {
    await conn.end().catch(() => {});
  }
}
