/**
 * The capacity benchmark's Markdown: method, breaking-point summary and every ramp, written to
 * docs/benchmarks.md and bench/results/capacity.json (writeReport) and to the measured block of
 * docs/capacity.md.
 */
import { cpus } from 'node:os';
import { writeCapacityDoc } from './capacity-docs.js';
import type { RampResult } from './capacity-ramp.js';
import {
  type CapacityResult,
  capacityMetrics,
  kneeText,
  perAgent,
  stepTable,
  summaryRows,
} from './capacity-report.js';
import { table, writeReport } from './report.js';

const n = (v: number) => Math.round(v).toLocaleString('en-US');

function section(title: string, r: RampResult | null | undefined, procs: string[], intro: string): string[] {
  if (!r) return [];
  return [
    `**${title}** — ${r.objective}. Knee: **${kneeText(r)}**; stopped by ${r.stoppedBy}; what gave first: ${r.gaveFirst}. ${intro}`,
    '',
    r.steps.length > 0 ? stepTable(r, procs) : '(no step ran)',
    '',
  ];
}

/** Load average and steal over every step of the run: the noise a reader should allow for. */
function noise(c: CapacityResult): string {
  const steps = [
    c.harpoon?.harpoon,
    c.harpoon?.uncoalesced,
    c.harpoon?.transport,
    c.harpoon?.baseline,
    c.scheduler?.v2,
    c.scheduler?.v1,
  ]
    .concat([c.router?.events, c.router?.agents, c.router?.baseline])
    .flatMap((r) => r?.steps ?? []);
  if (steps.length === 0) return '';
  const loads = steps.flatMap((s) => s.resources.load1);
  const others = steps.map((s) => s.resources.cpu.other ?? 0);
  const retried = steps.filter((s) => s.retried).length;
  return `Noise: the machine has ${cpus().length} cores shared with other work; the 1-minute load average ranged ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)} over the steps, CPU used by processes outside the benchmark ("others") ${Math.min(...others)}–${Math.max(...others)} % of one core, steal up to ${Math.max(...steps.map((s) => s.resources.stealPct))} %. ${retried} step(s) were disrupted from outside and retried once. Knees between two steps are only known to the step: the true knee lies between the last step that held and the first that broke.`;
}

/** The benchmarks.md section body. */
export function capacityBody(c: CapacityResult): string {
  const h = c.harpoon;
  const s = c.scheduler;
  const r = c.router;
  const rssPer = perAgent(r?.agents);
  const heapPer = perAgent(r?.agents, 'routerHeapMiB');
  return [
    `Each component is offered a rising load in bounded steps (warm-up, then a measured window); a step **holds** when ≥ 95 % of the offered load was achieved in the window and the latency objective held (failed, shed or unfinished requests count as over the objective). The ramp stops at the first step that does not hold; a step disrupted from outside (MariaDB or RabbitMQ restarted, connections lost: other work shares these services and may restart them) is retried once and marked. The **knee** is the highest step that held. CPU per process is read from \`/proc/<pid>/stat\` over the measured window, in % of one core (${cpus().length} cores: ${cpus().length * 100} % is the whole machine); "others" is the whole machine minus the processes named. "What gave first" applies a fixed rule at the first broken step: a ctlplane process at ≥ 85 % of one core; else a load-generating process (callers, simulated agents) at ≥ 85 % (the benchmark's own limit); else the whole machine at ≥ 85 %; else iowait ≥ 20 % or MariaDB/RabbitMQ as the busiest process at ≥ 85 %; else a ctlplane process above 4 GiB resident; else "no resource saturated".${c.quick ? ' **Quick run** (`--quick`): short steps and a coarse ramp, for development only.' : ''}`,
    '',
    table(
      ['component', 'knee (ctlplane)', 'knee (baseline)', 'objective', 'what gave first'],
      summaryRows(c),
    ),
    '',
    ...(h
      ? section(
          'Harpoon, coalescing client',
          h.harpoon,
          ['harpoon', 'callers', 'mariadb', 'rabbitmq'],
          `One Harpoon process (MariaDB pool of ${h.settings.pool}, group commit: batches ≤ 500, linger 2 ms, 3 in flight) behind its HTTP server on 127.0.0.1; its outbox relay publishes every change to a RabbitMQ quorum queue, consumed by the callers process. Callers: one process, open-loop (calls start at their scheduled time whatever the answers; latency from that time), each call one \`create\` of one event, at most ${n(h.settings.maxInFlight)} calls outstanding; ${h.settings.warmupS} s warm-up, ${h.settings.seconds} s measured per step. HarpoonClient with its defaults: concurrent creates within 1 ms travel in one request (≤ 500 calls, ≤ 1 MiB, ≤ 8 requests in flight), over a keep-alive pool of node:http connections.`,
        ).concat(
          section(
            'Harpoon, one request per create',
            h.uncoalesced,
            ['harpoon', 'callers', 'mariadb', 'rabbitmq'],
            'The same Harpoon process and callers, HarpoonClient with `coalesce: false`: one HTTP request per create, over the same keep-alive pool.',
          ),
          section(
            'Reference: the HTTP transport alone',
            h.transport,
            ['harpoon', 'callers'],
            'The same callers and per-request HarpoonClient against a bare node:http server in the Harpoon process that parses each request and answers a stored event: what HTTP on this machine sustains with no Harpoon, MariaDB or RabbitMQ behind it, one request per call. Started at the per-request knee.',
          ),
          section(
            'Baseline: callers write straight to MariaDB',
            h.baseline,
            ['callers', 'mariadb'],
            `The 2012 design: one connection per caller (a pool capped at ${n(h.settings.baselineCap)} connections: what MariaDB had left but 20, at most 100), one autocommitted INSERT per event; the same open-loop callers.`,
          ),
        )
      : []),
    ...(s
      ? section(
          'Scheduler V2',
          s.v2,
          ['scheduler', 'load', 'mariadb'],
          `One scheduler process (MariaDB pool of 4 for events and fleet, \`topK\` 3, \`idlePollMs\` 50, the scheduler benchmark's spread mix: every filter, four weighted strategies) on ${n(s.settings.servers)} servers; the load process appends pending droplet requests at the offered rate in 20 ms ticks. Latency: from the append's commit to the placement's commit.`,
        ).concat(
          s.v1
            ? section(
                'Scheduler V1 (baseline)',
                s.v1,
                ['scheduler', 'load', 'mariadb'],
                'One request at a time, every server filtered and scored, all sorted, one reservation and one transition per request, on the same fleet.',
              )
            : ['Scheduler V1: not run (time budget).', ''],
        )
      : []),
    ...(r
      ? section(
          `EventRouter: events/s at ${n(r.settings.eventsAtAgents)} agents`,
          r.events,
          ['router', 'agents', 'load', 'mariadb'],
          `The router benchmark's processes: one router (polling input every ${n(r.settings.pollMs)} ms, MariaDB pool of 2, acks applied in batches), simulated agents in another process over WebSocket on 127.0.0.1, appends from the load process. Latency: from the append's commit to the agent's handler.`,
        )
          .concat(
            section(
              `EventRouter: connected agents at ${n(r.settings.agentsAtRate)} events/s`,
              r.agents,
              ['router', 'agents', 'load', 'mariadb'],
              `Agents added between steps (250 at a time). Open-files limit per process here: ${n(r.settings.fdLimit)} (hard limit; one socket per agent in the router and in the agents process). Router memory per connected agent (after GC, idle, least-squares slope over the steps): ${Number.isFinite(rssPer) ? `${n(rssPer)} bytes RSS` : 'n/a'}, ${Number.isFinite(heapPer) ? `${n(heapPer)} bytes heap + external` : 'n/a'}.`,
            ),
          )
          .concat(
            section(
              'Baseline: agents poll MariaDB',
              r.baseline,
              ['agents', 'load', 'mariadb'],
              `The 2013 design: each agent its own MariaDB connection, polling every ${n(r.settings.pollMs)} ms; 200 events/s. The baseline's MySQL user is capped at ${n(r.settings.baselineCap)} connections (what \`max_connections\` left but 20, so the other clients of this shared server keep working); agents past it are refused as they would be past \`max_connections\` on a server of their own.`,
            ),
          )
      : []),
    noise(c),
  ].join('\n');
}

/** Print the report; with `write`, record it in docs/benchmarks.md, bench/results and docs/capacity.md. */
export function renderCapacity(c: CapacityResult, o: { write: boolean }): void {
  const body = capacityBody(c);
  if (!o.write) {
    console.log(body);
    return;
  }
  const metrics = capacityMetrics(c);
  writeReport({
    name: 'capacity',
    title: 'Capacity: where each component breaks (`npm run bench -- capacity`)',
    body,
    metrics,
  });
  writeCapacityDoc(c, metrics);
}
