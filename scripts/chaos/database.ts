/**
 * The chaos run's MariaDB side: one user per kind of client (so a fault can kill exactly the
 * connections of Harpoon, the direct router or the schedulers' fleet pools), the tables, and the
 * `KILL CONNECTION` fault.
 */
import { randomBytes } from 'node:crypto';
import { migrate } from '@ctlplane/adapters/mysql';
import { type Connection, createConnection, type RowDataPacket } from 'mysql2/promise';

/** The clients a fault can cut off from MariaDB. */
export const DB_CLIENTS = ['harpoon', 'router', 'fleet'] as const;
/** One of {@link DB_CLIENTS}. */
export type DbClient = (typeof DB_CLIENTS)[number];

/** The MariaDB user of a client. */
export const dbUser = (client: DbClient): string => `chaos_${client}`;

/** Admin connection, per-client URLs, and the tables migrated. */
export interface ChaosDatabase {
  readonly admin: Connection;
  readonly urls: Readonly<Record<DbClient, string>>;
  /** `KILL CONNECTION` every connection of `client`; resolves with how many were killed. */
  killConnections(client: DbClient): Promise<number>;
  close(): Promise<void>;
}

/** Create (or reset) the users with fresh passwords, and apply the migrations under `prefix`. */
export async function openChaosDatabase(adminUrl: string, prefix: string): Promise<ChaosDatabase> {
  const admin = await createConnection({ uri: adminUrl });
  const base = new URL(adminUrl);
  const db = base.pathname.slice(1) || 'test';
  const urls = {} as Record<DbClient, string>;
  for (const client of DB_CLIENTS) {
    const user = dbUser(client);
    const password = randomBytes(12).toString('hex');
    await admin.query('CREATE USER IF NOT EXISTS ?@? IDENTIFIED BY ?', [user, '%', password]);
    await admin.query('ALTER USER ?@? IDENTIFIED BY ?', [user, '%', password]);
    await admin.query(`GRANT ALL ON \`${db}\`.* TO ?@?`, [user, '%']);
    const url = new URL(adminUrl);
    url.username = user;
    url.password = password;
    urls[client] = url.toString();
  }
  await migrate({ url: adminUrl, tablePrefix: prefix });
  return {
    admin,
    urls,
    killConnections: async (client) => {
      const [rows] = await admin.query<RowDataPacket[]>(
        'SELECT id FROM information_schema.processlist WHERE user = ?',
        [dbUser(client)],
      );
      let killed = 0;
      for (const r of rows) {
        try {
          await admin.query(`KILL CONNECTION ${Number(r.id)}`);
          killed++;
        } catch {
          // it ended on its own meanwhile
        }
      }
      return killed;
    },
    close: () => admin.end(),
  };
}
