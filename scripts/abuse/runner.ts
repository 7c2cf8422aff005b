/**
 * One attack, measured: the peaks reset, the attack run (bounded), the servers given a bounded
 * settle (90 s; 4 s in the CI-sized run) to come back within 50 MiB of their baselines, the relay
 * probed, crashes counted and the crashed servers restarted. The good client's figures are cut
 * from its samples afterwards, over the attack and at most the settle's first 30 s (a longer
 * settle must not thin out the p99 with quiet samples); the RSS at 30 s is kept besides.
 */
import { sleep } from '@ctlplane/core';
import type { Attack, AttackContext } from './attack.js';
import type { AbuseDeployment, ServerName } from './deployment.js';
import type { RelayProbe } from './probe.js';
import { BARS } from './verdict.js';

/** What the runner measured of one attack, before the good client's samples are cut. */
export interface Measured {
  readonly attack: Attack;
  readonly t0: number;
  readonly t1: number;
  readonly t2: number;
  readonly crashes: number;
  readonly peakMiB: Record<string, number>;
  readonly overMiB: Record<string, number>;
  /** RSS over baseline 30 s into the settle (or at its end, when it ended sooner). */
  readonly overEarlyMiB: Record<string, number>;
  /** The end of the good client's window: the settle's end or its first 30 s, whichever is first. */
  readonly tWindow: number;
  readonly relayStalls: number;
  readonly probeMs: number | null;
  readonly misses: string[];
  readonly notes: string[];
}

const PROBE_BOUND_MS = 10_000;

/** Run `attack` and measure it. */
export async function runAttack(
  attack: Attack,
  o: {
    deployment: AbuseDeployment;
    baseline: Readonly<Record<ServerName, number>>;
    probe: RelayProbe;
    context: Omit<AttackContext, 'note' | 'expect'>;
    timeoutMs: number;
    /**
     * The settle: at least `min` ms, at most `max` ms for RSS to come back within the bar; the
     * good client's window and the early RSS reading end `early` ms into it.
     */
    settle: { min: number; max: number; early: number };
    say: (line: string) => void;
  },
): Promise<Measured> {
  const { deployment: d } = o;
  const names = ['harpoon', 'router'] as const;
  const crashesBefore = names.reduce((n, s) => n + d.server(s).crashes, 0);
  for (const s of names) d.server(s).peak.reset();
  const notes: string[] = [];
  const misses: string[] = [];
  const ctx: AttackContext = {
    ...o.context,
    note: (line) => {
      notes.push(line);
      o.say(`    ${line}`);
    },
    expect: (ok, what) => {
      if (!ok) {
        misses.push(what);
        o.say(`    MISS: ${what}`);
      }
    },
  };
  const t0 = Date.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      attack.run(ctx),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`did not finish within ${o.timeoutMs / 1_000} s`)),
          o.timeoutMs,
        );
      }),
    ]);
  } catch (err) {
    misses.push(`the attack failed: ${(err as Error).message}`);
    o.say(`    MISS: the attack failed: ${(err as Error).stack ?? err}`);
  } finally {
    clearTimeout(timer);
  }
  const t1 = Date.now();
  const peakMiB = Object.fromEntries(names.map((s) => [s, d.server(s).peak.peak]));
  const over = (): Record<string, number> =>
    Object.fromEntries(names.map((s) => [s, d.server(s).rss() - o.baseline[s]]));
  let overMiB = over();
  let overEarlyMiB: Record<string, number> | null = null;
  // The good client keeps measuring through the settle: an attack's cost can come after it.
  await sleep(o.settle.min);
  while (Date.now() - t1 < o.settle.max) {
    overMiB = over();
    if (!overEarlyMiB && Date.now() - t1 >= o.settle.early) overEarlyMiB = overMiB;
    if (Object.values(overMiB).every((x) => x <= BARS.rssOverMiB)) break;
    await sleep(500);
  }
  const tWindow = Math.min(Date.now(), t1 + o.settle.early);
  const probeMs = await o.probe.check(PROBE_BOUND_MS);
  const t2 = Date.now();
  const crashes = names.reduce((n, s) => n + d.server(s).crashes, 0) - crashesBefore;
  if (crashes > 0) {
    const restarted = await d.restartCrashed();
    o.say(`    CRASH: restarted ${restarted.join(', ')}`);
    await sleep(2_000);
  }
  return {
    ...{ attack, t0, t1, t2, tWindow, crashes, peakMiB, overMiB, overEarlyMiB: overEarlyMiB ?? overMiB },
    ...{ relayStalls: probeMs === null ? 1 : 0, probeMs, misses, notes },
  };
}
