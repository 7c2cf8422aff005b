/**
 * `--state-dir`: what the hypervisors of one agents process have done, kept on disk as JSON lines
 * so that a restarted agents process finds its droplets still running (as a real agent asks its
 * hypervisor) and so that a checker can count what the agents received.
 *
 * Lines (appended synchronously, so a SIGKILL loses none the process wrote):
 * - `{"k":"ev","e":id,"v":version,"s":server,"r":0|1,"at":ms}`: an event arrived and started work
 *   (`r`: the router flagged it a redelivery);
 * - `{"k":"dup","e":id,"v":version,"s":server,"at":ms}`: an event arrived again and was skipped;
 * - `{"k":"boot","e":id,"s":server,"cpu":n,"mem":n,"ip":"…","at":ms}`: a droplet started running;
 * - `{"k":"gone","e":dropletId,"s":server,"at":ms}`: a droplet was destroyed.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A droplet running on a hypervisor. */
export interface RunningDroplet {
  readonly cpu: number;
  readonly memory: number;
  readonly ip: string;
}

/** One line of a ledger. */
export type LedgerLine =
  | { k: 'ev'; e: number; v: number; s: string; r: 0 | 1; at: number }
  | { k: 'dup'; e: number; v: number; s: string; at: number }
  | { k: 'boot'; e: number; s: string; cpu: number; mem: number; ip: string; at: number }
  | { k: 'gone'; e: number; s: string; at: number };

/** The ledger file of agents shard `shard` under `dir`. */
export const ledgerPath = (dir: string, shard: number): string => join(dir, `agents-${shard}.jsonl`);

/** Read a ledger's lines; a torn last line (the process was killed mid-write) is skipped. */
export function readLedger(path: string): LedgerLine[] {
  if (!existsSync(path)) return [];
  const out: LedgerLine[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line) continue;
    try {
      out.push(JSON.parse(line) as LedgerLine);
    } catch {
      // a partial line at the end
    }
  }
  return out;
}

/** The droplets of one agents process, restored from and appended to its ledger file. */
export class HypervisorLedger {
  readonly #path: string;
  readonly #running = new Map<string, Map<number, RunningDroplet>>();

  constructor(dir: string, shard: number) {
    mkdirSync(dir, { recursive: true });
    this.#path = ledgerPath(dir, shard);
    for (const l of readLedger(this.#path)) {
      if (l.k === 'boot') this.#on(l.s).set(l.e, { cpu: l.cpu, memory: l.mem, ip: l.ip });
      if (l.k === 'gone') this.#on(l.s).delete(l.e);
    }
    // A torn last line would glue onto the next record: start on a fresh line.
    appendFileSync(this.#path, '\n');
  }

  /** The droplets running on `server` when the process started (a live map: keep using it). */
  droplets(server: string): Map<number, RunningDroplet> {
    return this.#on(server);
  }

  /** Append a line. */
  write(line: LedgerLine): void {
    appendFileSync(this.#path, `${JSON.stringify(line)}\n`);
  }

  #on(server: string): Map<number, RunningDroplet> {
    const known = this.#running.get(server);
    if (known) return known;
    const fresh = new Map<number, RunningDroplet>();
    this.#running.set(server, fresh);
    return fresh;
  }
}
