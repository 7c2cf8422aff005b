/**
 * The router benchmark's report: ctlplane and the 2012 baseline side by side, the targets of the
 * issue checked, and bench/results/router.json.
 */
import { table, writeReport } from './report.js';
import type { PushStages } from './router-stages.js';

interface Lat {
  count: number;
  p50: number;
  p99: number;
  max: number;
}
interface Base {
  count: number;
  connections: number;
  connected: number;
  queriesPerS: number;
  connectAttempts: number;
  errors: Record<string, number>;
  latency: Lat;
}
interface Phase {
  servers: number;
  connections: number;
  queriesPerS: number;
  readsPerS: number;
  transitionsPerS: number;
  /** From the append's commit to the agent's handler. */
  latency: Lat;
  /** From just before the append call (includes the append's own time). */
  fromAppend: Lat & { redeliveries: number };
  /** Events committed in the measured window, and how many of them no agent received. */
  expected: number;
  missing: number;
  /** CPU per process, % of one core. */
  cpu: Record<string, number>;
  appended: number;
  /** Event loop delay per process over the measured window, ms. */
  loop: Record<'router' | 'agents' | 'load', Lat2>;
  /** The pushed path, stage by stage (pushed phase only). */
  stages?: PushStages;
  agentsConnected: number;
  bytesPerEvent: number;
}
interface Lat2 {
  p50: number;
  p99: number;
  max: number;
}
interface Mem {
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

/** Everything the run measured. */
export interface RouterBenchResult {
  limits: { maxConnections: number; othersHeld: number; baselineCap: number };
  /** The machine's 1-minute load average when the run began (other work shares the machine). */
  loadAverage: number;
  rate: number;
  pollMs: number;
  seconds: number;
  base100: Base;
  base1000: Base;
  poll1k: Phase;
  poll10k: Phase;
  push10k: Phase;
  memory: { mem0: Mem; mem1k: Mem; mem10k: Mem; connected10kIdle: number; agentsRss10k: number };
}

const ms = (v: number) => (Number.isFinite(v) ? `${Math.round(v)} ms` : 'n/a');
const mib = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MiB`;
const ok = (cond: boolean) => (cond ? 'met' : '**missed**');

/** Print the report and write docs/benchmarks.md and bench/results/router.json. */
export function renderRouterReport(r: RouterBenchResult): void {
  const { mem1k, mem10k, mem0 } = r.memory;
  const perAgentRss = (mem10k.rss - mem1k.rss) / 9_000;
  const perAgentHeap = (mem10k.heapUsed + mem10k.external - mem1k.heapUsed - mem1k.external) / 9_000;
  const errors1000 = Object.entries(r.base1000.errors)
    .map(([k, v]) => `${k} ×${v}`)
    .join(', ');
  const within = Math.abs(r.poll10k.queriesPerS - r.poll1k.queriesPerS) / r.poll1k.queriesPerS;
  const rows: (string | number)[][] = [
    [
      'baseline: agents poll MariaDB',
      100,
      r.base100.connections,
      r.base100.queriesPerS,
      ms(r.base100.latency.p50),
      ms(r.base100.latency.p99),
      `${r.base100.connected}/100 agents connected`,
    ],
    [
      'baseline: agents poll MariaDB',
      1_000,
      r.base1000.connections,
      r.base1000.queriesPerS,
      ms(r.base1000.latency.p50),
      ms(r.base1000.latency.p99),
      `${r.base1000.connected}/1,000 connected; ${r.base1000.count - r.base1000.connected} agents never see their events; refused: ${errors1000 || 'none'}`,
    ],
    ...(
      [
        ['ctlplane EventRouter, polling', r.poll1k],
        ['ctlplane EventRouter, polling', r.poll10k],
        ['ctlplane EventRouter, pushed (RabbitMQ)', r.push10k],
      ] as const
    ).map(([name, p]) => [
      name,
      p.agentsConnected,
      p.connections,
      p.queriesPerS,
      ms(p.latency.p50),
      ms(p.latency.p99),
      `${p.missing} of ${p.expected.toLocaleString('en-US')} events committed in the window not received; ${p.readsPerS.toFixed(2)} feed reads/s, ${p.transitionsPerS.toFixed(1)} ack batches/s; from the append call: p50 ${ms(p.fromAppend.p50)}, p99 ${ms(p.fromAppend.p99)}`,
    ]),
  ];
  const body = [
    `${r.rate.toLocaleString('en-US')} events/s for ${r.seconds} s per phase (first 3 s not measured), poll interval ${r.pollMs} ms for both designs. One router process (MariaDB user \`ctl_bench_router\`, pool of 2, \`maxDbConcurrency\` 2, \`ackFlushMs\` 200 and \`ackBatchSize\` 5,000: acks applied at most five times a second, in batches; WebSocket on 127.0.0.1); agents simulated in another process (ulimit -n raised); connections counted from MariaDB's \`information_schema.PROCESSLIST\` for the process's own user, sampled every 250 ms (max shown). Queries/s are the round trips each design issued. Latency: from the commit of the event's append (the load generator's append resolved) to its agent's handler; the baseline's from just before the append. Pushed: a relay in the load process (woken by its own commits, like Harpoon's) publishes every change to RabbitMQ; the router consumes a classic queue. The simulated agents' work is instant, so they acknowledge \`done\` only. The machine's load average was ${r.loadAverage.toFixed(1)} when the run began (other work shares it; see the CPU table: "whole machine" counts every process).`,
    '',
    table(
      ['design', 'agents', 'DB connections', 'DB queries/s', 'latency p50', 'latency p99', 'notes'],
      rows,
    ),
    '',
    `MariaDB's \`max_connections\` is ${r.limits.maxConnections} (the default is 151); other clients held ${r.limits.othersHeld} when the run began. So as not to starve them, the baseline's user is capped at ${r.limits.baselineCap} connections (\`MAX_USER_CONNECTIONS\`: all that was left but 20); the agents past it are refused exactly as past \`max_connections\` on a server of their own (ER_TOO_MANY_USER_CONNECTIONS here, ER_CON_COUNT_ERROR there), and retry every interval. On a dedicated server 1,000 polling agents also lock every other client out.`,
    '',
    table(
      ['target (issue 5)', 'measured', 'result'],
      [
        ['router DB connections ≤ 2 at 10,000 agents', r.poll10k.connections, ok(r.poll10k.connections <= 2)],
        [
          'DB queries/s equal within 10 % at 1,000 and 10,000 agents',
          `${r.poll1k.queriesPerS.toFixed(1)} vs ${r.poll10k.queriesPerS.toFixed(1)} (${(within * 100).toFixed(1)} %)`,
          ok(within <= 0.1),
        ],
        [
          `polling p99 ≤ poll interval + 50 ms (${r.pollMs + 50} ms)`,
          ms(r.poll10k.latency.p99),
          ok(r.poll10k.latency.p99 <= r.pollMs + 50),
        ],
        ['pushed p99 ≤ 50 ms', ms(r.push10k.latency.p99), ok(r.push10k.latency.p99 <= 50)],
      ],
    ),
    '',
    table(
      ['router memory (after GC, idle)', 'RSS', 'heap + external'],
      [
        ['no agents', mib(mem0.rss), mib(mem0.heapUsed + mem0.external)],
        ['1,000 agents', mib(mem1k.rss), mib(mem1k.heapUsed + mem1k.external)],
        [
          `${r.memory.connected10kIdle.toLocaleString('en-US')} agents`,
          mib(mem10k.rss),
          mib(mem10k.heapUsed + mem10k.external),
        ],
        [
          'per connected agent (slope 1k → 10k)',
          `${Math.round(perAgentRss)} B`,
          `${Math.round(perAgentHeap)} B`,
        ],
      ],
    ),
    '',
    table(
      ['CPU, % of one core', 'router', 'agents', 'load + relay', 'MariaDB', 'RabbitMQ', 'whole machine'],
      (
        [
          ['polling, 1,000 agents', r.poll1k],
          ['polling, 10,000 agents', r.poll10k],
          ['pushed, 10,000 agents', r.push10k],
        ] as const
      ).map(([name, p]) => [
        name,
        p.cpu.router ?? 0,
        p.cpu.agents ?? 0,
        p.cpu.load ?? 0,
        p.cpu.mariadb ?? 0,
        p.cpu.rabbitmq ?? 0,
        p.cpu.machine ?? 0,
      ]),
    ),
    '',
    table(
      ['event loop delay p99 / max', 'router', 'agents', 'load + relay'],
      (
        [
          ['polling, 1,000 agents', r.poll1k],
          ['polling, 10,000 agents', r.poll10k],
          ['pushed, 10,000 agents', r.push10k],
        ] as const
      ).map(([name, p]) => [
        name,
        ...(['router', 'agents', 'load'] as const).map((k) => `${ms(p.loop[k].p99)} / ${ms(p.loop[k].max)}`),
      ]),
    ),
    '',
    ...stageLines(r.push10k.stages),
    `Bytes sent per delivered event (frames, all agents): ${Math.round(r.poll10k.bytesPerEvent)} B polling, ${Math.round(r.push10k.bytesPerEvent)} B pushed. The agents process held ${mib(r.memory.agentsRss10k)} RSS for 10,000 agents.`,
  ].join('\n');
  writeReport({
    name: 'router',
    title: 'EventRouter: 1,000 and 10,000 agents over a handful of database connections',
    body,
    metrics: {
      agents_connected_10k: r.poll10k.agentsConnected,
      db_connections_1k: r.poll1k.connections,
      db_connections_10k: r.poll10k.connections,
      queries_per_s_1k: round(r.poll1k.queriesPerS),
      queries_per_s_10k: round(r.poll10k.queriesPerS),
      push_queries_per_s_10k: round(r.push10k.queriesPerS),
      poll_interval_ms: r.pollMs,
      events_per_s: r.rate,
      p50_ms_1k: r.poll1k.latency.p50,
      p99_ms_1k: r.poll1k.latency.p99,
      p50_ms_10k: r.poll10k.latency.p50,
      p99_ms_10k: r.poll10k.latency.p99,
      push_p50_ms_10k: r.push10k.latency.p50,
      push_p99_ms_10k: r.push10k.latency.p99,
      push_commit_to_router_p99_ms_10k: r.push10k.stages?.commitToRouter.p99 ?? Number.NaN,
      push_router_to_agent_p99_ms_10k: r.push10k.stages?.routerToAgent.p99 ?? Number.NaN,
      push_relay_confirmed_p99_ms_10k: r.push10k.stages?.commitToConfirmed.p99 ?? Number.NaN,
      router_loop_delay_p99_ms_push_10k: r.push10k.loop.router.p99,
      router_loop_delay_p99_ms_poll_10k: r.poll10k.loop.router.p99,
      bytes_per_agent: Math.round(perAgentRss),
      heap_bytes_per_agent: Math.round(perAgentHeap),
      router_rss_bytes_10k: mem10k.rss,
      baseline_connections_100: r.base100.connections,
      baseline_queries_per_s_100: round(r.base100.queriesPerS),
      baseline_connections_1000: r.base1000.connections,
      baseline_queries_per_s_1000: round(r.base1000.queriesPerS),
      baseline_agents_refused_1000: r.base1000.count - r.base1000.connected,
    },
  });
}

/** The pushed path's stage table, or nothing when the phase did not record stages. */
function stageLines(st: PushStages | undefined): string[] {
  if (!st) return [];
  const row = (name: string, l: Lat) => [name, l.count, ms(l.p50), ms(l.p99), ms(l.max)];
  return [
    table(
      ['pushed path, 10,000 agents: stage', 'samples', 'p50', 'p99', 'max'],
      [
        row('append() call → commit (per batch of 20)', st.append),
        row(
          'commit → off the bus in the router (relay wake, feed read, publish, RabbitMQ)',
          st.commitToRouter,
        ),
        row(
          "router's bus consumer → agent's handler (dispatch, WebSocket, agents' process)",
          st.routerToAgent,
        ),
        row(
          "commit → relay's confirmed publish (for reference: after the broker's confirm)",
          st.commitToConfirmed,
        ),
      ],
    ),
    '',
  ];
}

function round(v: number): number {
  return Math.round(v * 100) / 100;
}
