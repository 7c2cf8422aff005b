/**
 * The checker: once the run has settled, reads the database (events, reservations), the agents'
 * ledgers and what the observer saw on the bus, and holds them to what the API acknowledged.
 * Like Jepsen's checkers it reports counts, and the ids behind them, not a yes/no.
 */
import type { RowDataPacket } from 'mysql2/promise';
import { fleetSpec } from '../../packages/examples/src/droplet-cloud/fleet-spec.js';
import { ledgerPath, readLedger } from '../../packages/examples/src/droplet-cloud/ledger.js';
import type { AdminDb } from './admin.js';
import type { ChangeObserver } from './observer.js';
import type { ChaosWorkload } from './workload.js';

const TERMINAL = new Set(['done', 'failed', 'cancelled']);

/** The verdict's numbers; the first five must be 0. */
export interface CheckResult {
  /** Acknowledged requests (creates and destroys) with no event in the database. */
  lost: number;
  /** Events run, reserved or seen on more than one server. */
  double_placed: number;
  /** Servers whose reservations, or whose running droplets at any moment, exceeded capacity. */
  overcommitted: number;
  /** Events not in a terminal state after the settle time. */
  stuck: number;
  /** Creates the database says are done that no agent ever booted. */
  phantom_done: number;
  /** Events the agents received more than once (counted; handled idempotently). */
  duplicates_delivered: number;
  /** Droplets booted more than once (a duplicate not handled idempotently). */
  double_booted: number;
  /** Events whose final version the relay never published. */
  unpublished: number;
  /** Reservations left for droplets that failed, were cancelled or destroyed. */
  leaked_reservations: number;
  /** Running droplets (done, not destroyed) with no reservation. */
  unreserved: number;
  /** Events in the table, and by status. */
  events: number;
  byStatus: Record<string, number>;
  /** Example ids behind each non-zero count. */
  examples: Record<string, number[]>;
}

/** Count how many events of the table are not terminal (the settle loop's question). */
export async function openCount(admin: AdminDb, prefix: string): Promise<number> {
  const [rows] = await admin.query<RowDataPacket[]>(
    `SELECT COUNT(*) AS n FROM \`${prefix}events\` WHERE status NOT IN ('done','failed','cancelled')`,
  );
  return Number(rows[0]!.n);
}

/**
 * Reservations whose droplet is gone (its create failed or was cancelled, or a destroy of it is
 * done). The reconciler releases them from its own queue, so right after the last change is
 * published some may still be on their way; the settle waits for this to reach 0 (bounded), and
 * the checker counts what is left as `leaked_reservations`.
 */
export async function outlivingReservations(admin: AdminDb, prefix: string): Promise<number> {
  const [rows] = await admin.query<RowDataPacket[]>(
    `SELECT COUNT(*) AS n FROM \`${prefix}fleet_allocations\` a JOIN \`${prefix}events\` c ON c.id = a.alloc_key
     WHERE c.type = 'droplet.create' AND (c.status IN ('failed','cancelled') OR EXISTS (
       SELECT 1 FROM \`${prefix}events\` d WHERE d.type = 'droplet.destroy' AND d.status = 'done'
       AND JSON_VALUE(d.payload, '$.dropletId') = c.id))`,
  );
  return Number(rows[0]!.n);
}

/** Events whose newest version in the table the observer has not seen yet. */
export async function unpublishedIds(
  admin: AdminDb,
  prefix: string,
  observer: ChangeObserver,
): Promise<number[]> {
  const [rows] = await admin.query<RowDataPacket[]>(`SELECT id, version FROM \`${prefix}events\``);
  return rows
    .filter((r) => (observer.versions.get(Number(r.id)) ?? 0) < Number(r.version))
    .map((r) => Number(r.id));
}

type Row = RowDataPacket;
type Note = (key: string, id: number) => void;
type Resources = { readonly cpu: number; readonly memory: number };
type Capacity = Map<string, Resources>;
type Overcommit = { cpu: number; memory: number };

/** Run every check. */
export async function check(o: {
  admin: AdminDb;
  prefix: string;
  stateDir: string;
  shards: number;
  fleet: Parameters<typeof fleetSpec>[0];
  overcommit: Overcommit;
  workload: ChaosWorkload;
  observer: ChangeObserver;
}): Promise<CheckResult> {
  const examples: Record<string, number[]> = {};
  const note: Note = (key, id) => {
    const list = examples[key] ?? [];
    examples[key] = list;
    if (list.length < 10) list.push(id);
  };
  const [eventRows] = await o.admin.query<Row[]>(
    `SELECT id, type, status, server_id, idempotency_key, version, payload FROM \`${o.prefix}events\``,
  );
  const byStatus: Record<string, number> = {};
  for (const r of eventRows) byStatus[String(r.status)] = (byStatus[String(r.status)] ?? 0) + 1;
  const lost = countLost(eventRows, o.workload, note);
  const stuck = countStuck(eventRows, note);
  const capacity: Capacity = new Map(fleetSpec(o.fleet).map((s) => [s.id, s.capacity]));
  const ran = replayLedgers(o, capacity, note);
  const { allocations, reserved } = await readReservations(o.admin, o.prefix);
  const over = new Set(ran.overPhysically);
  for (const [s, u] of reserved) if (exceeds(u, capacity.get(s), o.overcommit)) over.add(s);
  const placement = checkPlacements(eventRows, ran, allocations, o.observer, note);
  const unpublished = await unpublishedIds(o.admin, o.prefix, o.observer);
  for (const id of unpublished.slice(0, 10)) note('unpublished', id);
  for (const s of [...over].slice(0, 10)) note('overcommitted_servers', Number(s.replace(/\D/g, '')));
  return {
    lost,
    double_placed: placement.doublePlaced,
    overcommitted: over.size,
    stuck,
    phantom_done: placement.phantom,
    duplicates_delivered: ran.duplicates,
    double_booted: ran.doubleBooted,
    unpublished: unpublished.length,
    leaked_reservations: placement.leaked,
    unreserved: placement.unreserved,
    events: eventRows.length,
    byStatus,
    examples,
  };
}

/** Acknowledged creates and destroys with no event of that id (and request id). */
function countLost(eventRows: readonly Row[], workload: ChaosWorkload, note: Note): number {
  const events = new Map(eventRows.map((r) => [Number(r.id), r]));
  let lost = 0;
  for (const a of workload.accepted.values()) {
    const row = events.get(a.id);
    if (!row || row.idempotency_key !== a.requestId) {
      lost++;
      note('lost', a.id);
    }
  }
  for (const destroyId of workload.destroys.values()) {
    if (!events.has(destroyId)) {
      lost++;
      note('lost', destroyId);
    }
  }
  return lost;
}

function countStuck(eventRows: readonly Row[], note: Note): number {
  let stuck = 0;
  for (const r of eventRows) {
    if (!TERMINAL.has(String(r.status))) {
      stuck++;
      note('stuck', Number(r.id));
    }
  }
  return stuck;
}

/** What the agents did, from their ledgers. */
interface AgentsRecord {
  /** Servers each event was received or booted on. */
  readonly ranOn: Map<number, Set<string>>;
  /** The server each droplet last booted on. */
  readonly bootedOn: Map<number, string>;
  readonly duplicates: number;
  readonly doubleBooted: number;
  /** Servers whose running droplets exceeded capacity × overcommit at some moment. */
  readonly overPhysically: Set<string>;
}

/** Replay each agents process's ledger in order. */
function replayLedgers(
  o: { stateDir: string; shards: number; overcommit: Overcommit },
  capacity: Capacity,
  note: Note,
): AgentsRecord {
  const ranOn = new Map<number, Set<string>>();
  const received = new Map<number, number>();
  const boots = new Map<number, number>();
  const bootedOn = new Map<number, string>();
  let duplicates = 0;
  const overPhysically = new Set<string>();
  for (let shard = 0; shard < o.shards; shard++) {
    const use = new Map<string, { cpu: number; memory: number; droplets: Map<number, [number, number]> }>();
    for (const l of readLedger(ledgerPath(o.stateDir, shard))) {
      if (l.k === 'dup') duplicates++;
      if (l.k === 'ev') {
        const n = (received.get(l.e) ?? 0) + 1;
        received.set(l.e, n);
        if (n > 1) duplicates++;
        addTo(ranOn, l.e, l.s);
      }
      if (l.k === 'boot') {
        boots.set(l.e, (boots.get(l.e) ?? 0) + 1);
        bootedOn.set(l.e, l.s);
        addTo(ranOn, l.e, l.s);
        const u = use.get(l.s) ?? { cpu: 0, memory: 0, droplets: new Map() };
        use.set(l.s, u);
        if (!u.droplets.has(l.e)) {
          u.droplets.set(l.e, [l.cpu, l.mem]);
          u.cpu += l.cpu;
          u.memory += l.mem;
        }
        if (exceeds(u, capacity.get(l.s), o.overcommit)) overPhysically.add(l.s);
      }
      if (l.k === 'gone') {
        const u = use.get(l.s);
        const d = u?.droplets.get(l.e);
        if (u && d) {
          u.droplets.delete(l.e);
          u.cpu -= d[0];
          u.memory -= d[1];
        }
      }
    }
  }
  let doubleBooted = 0;
  for (const [id, n] of boots) {
    if (n > 1) {
      doubleBooted++;
      note('double_booted', id);
    }
  }
  return { ranOn, bootedOn, duplicates, doubleBooted, overPhysically };
}

/** The fleet's reservations: the server of each key, and the sum reserved per server. */
async function readReservations(
  admin: AdminDb,
  prefix: string,
): Promise<{ allocations: Map<number, string>; reserved: Map<string, { cpu: number; memory: number }> }> {
  const [allocRows] = await admin.query<Row[]>(
    `SELECT alloc_key, server_id, demand FROM \`${prefix}fleet_allocations\``,
  );
  const reserved = new Map<string, { cpu: number; memory: number }>();
  const allocations = new Map<number, string>();
  for (const r of allocRows) {
    const demand = (typeof r.demand === 'string' ? JSON.parse(r.demand) : r.demand) as Record<string, number>;
    const s = String(r.server_id);
    const u = reserved.get(s) ?? { cpu: 0, memory: 0 };
    u.cpu += demand.cpu ?? 0;
    u.memory += demand.memory ?? 0;
    reserved.set(s, u);
    allocations.set(Number(r.alloc_key), s);
  }
  return { allocations, reserved };
}

/** Placement: one server per event, whoever tells; a reservation exactly while a droplet lives. */
function checkPlacements(
  eventRows: readonly Row[],
  ran: AgentsRecord,
  allocations: Map<number, string>,
  observer: ChangeObserver,
  note: Note,
): { doublePlaced: number; phantom: number; leaked: number; unreserved: number } {
  const destroyed = new Set<number>();
  for (const r of eventRows) {
    if (r.type === 'droplet.destroy' && r.status === 'done') {
      destroyed.add(Number((JSON.parse(String(r.payload)) as { dropletId: number }).dropletId));
    }
  }
  const out = { doublePlaced: 0, phantom: 0, leaked: 0, unreserved: 0 };
  for (const r of eventRows) {
    const id = Number(r.id);
    const servers = new Set<string>([...(ran.ranOn.get(id) ?? []), ...(observer.servers.get(id) ?? [])]);
    if (r.server_id) servers.add(String(r.server_id));
    const alloc = allocations.get(id);
    if (r.type === 'droplet.create' && alloc && ['placed', 'running', 'done'].includes(String(r.status))) {
      servers.add(alloc);
    }
    if (servers.size > 1) {
      out.doublePlaced++;
      note('double_placed', id);
    }
    if (r.type !== 'droplet.create') continue;
    if (r.status === 'done' && ran.bootedOn.get(id) !== r.server_id) {
      out.phantom++;
      note('phantom_done', id);
    }
    if (alloc && (r.status === 'failed' || r.status === 'cancelled' || destroyed.has(id))) {
      out.leaked++;
      note('leaked_reservations', id);
    }
    if (r.status === 'done' && !destroyed.has(id) && !alloc) {
      out.unreserved++;
      note('unreserved', id);
    }
  }
  return out;
}

/** Usage above capacity × overcommit on either resource. */
function exceeds(u: Resources, cap: Resources | undefined, overcommit: Overcommit): boolean {
  return !!cap && (u.cpu > cap.cpu * overcommit.cpu || u.memory > cap.memory * overcommit.memory);
}

function addTo(map: Map<number, Set<string>>, id: number, server: string): void {
  const set = map.get(id) ?? new Set<string>();
  set.add(server);
  map.set(id, set);
}
