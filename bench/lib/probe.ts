/**
 * Where a store workload spends its time, measured around it:
 * - round trips: mysql2's `mysql2:query` tracing channel, one per query packet (a multi-statement
 *   round trip counts once), in this process;
 * - MariaDB CPU: the server threads of the workload's own MySQL user (one thread per connection;
 *   `information_schema.PROCESSLIST.TID`, `/proc/<pid>/task/<tid>/stat`), so other clients of a
 *   shared server do not count; background threads (purge, redo log) are not included;
 * - Node CPU: this process (`process.cpuUsage`);
 * - row-lock waits: `Innodb_row_lock_waits` / `_time` deltas (server-wide: quiet server only).
 */
import { execSync } from 'node:child_process';
import { tracingChannel } from 'node:diagnostics_channel';
import { readdirSync, readFileSync } from 'node:fs';
import type { Pool, RowDataPacket } from 'mysql2/promise';

/** What a probed section cost, per 1,000 events. */
export interface Profile {
  roundTripsPer1k: number;
  dbCpuMsPer1k: number;
  nodeCpuMsPer1k: number;
  lockWaitsPer1k: number;
  lockWaitMsPer1k: number;
}

let trips = 0;
tracingChannel('mysql2:query').subscribe({
  start: () => {
    trips++;
  },
  end: () => {},
  asyncStart: () => {},
  asyncEnd: () => {},
  error: () => {},
});

const TICK_MS = 1000 / Number(execSync('getconf CLK_TCK', { encoding: 'utf8' }).trim() || 100);

/** The pid of the server `admin` talks to (several may run here: the single one, a cluster's nodes). */
async function serverPid(admin: Pool): Promise<number> {
  const [rows] = await admin.query<RowDataPacket[]>('SELECT @@pid_file AS f');
  return Number(readFileSync(String(rows[0]!.f), 'utf8').trim());
}

function threadCpuMs(pid: number, tid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS; // utime + stime
  } catch {
    return 0; // the connection (and its thread) is gone
  }
}

/** CPU ms of every server thread (a closed connection's thread is cached and reused later). */
function allThreads(pid: number): Map<number, number> {
  return new Map(readdirSync(`/proc/${pid}/task`).map((t) => [Number(t), threadCpuMs(pid, Number(t))]));
}

async function userThreadIds(admin: Pool, user: string): Promise<number[]> {
  const [rows] = await admin.query<RowDataPacket[]>(
    'SELECT TID AS tid FROM information_schema.PROCESSLIST WHERE USER = ?',
    [user],
  );
  return rows.map((r) => Number(r.tid));
}

async function lockStatus(admin: Pool): Promise<{ waits: number; ms: number }> {
  const [rows] = await admin.query<RowDataPacket[]>(
    "SHOW GLOBAL STATUS WHERE Variable_name IN ('Innodb_row_lock_waits', 'Innodb_row_lock_time')",
  );
  const v = Object.fromEntries(rows.map((r) => [String(r.Variable_name), Number(r.Value)]));
  return { waits: v.Innodb_row_lock_waits ?? 0, ms: v.Innodb_row_lock_time ?? 0 };
}

/**
 * Run `fn`, which handles `events` events over connections of MySQL user `user`, and return
 * what it cost. Keep the connections open until `fn` returns: a closed connection's thread
 * (and its CPU) can no longer be read.
 */
export async function probe(
  admin: Pool,
  user: string,
  events: number,
  fn: () => Promise<void>,
): Promise<Profile> {
  const pid = await serverPid(admin);
  const before = allThreads(pid);
  const locks0 = await lockStatus(admin);
  const trips0 = trips;
  const cpu0 = process.cpuUsage();
  await fn();
  const cpu = process.cpuUsage(cpu0);
  const roundTrips = trips - trips0;
  const tids = await userThreadIds(admin, user);
  const locks1 = await lockStatus(admin);
  let db = 0;
  for (const tid of tids) db += threadCpuMs(pid, tid) - (before.get(tid) ?? 0);
  const per1k = (v: number) => Number(((v * 1000) / events).toFixed(1));
  return {
    roundTripsPer1k: per1k(roundTrips),
    dbCpuMsPer1k: per1k(db),
    nodeCpuMsPer1k: per1k((cpu.user + cpu.system) / 1000),
    lockWaitsPer1k: per1k(locks1.waits - locks0.waits),
    lockWaitMsPer1k: per1k(locks1.ms - locks0.ms),
  };
}
