/**
 * Command-line options, validated with zod. A bad flag prints the usage and the rule it broke.
 */
import { parseArgs } from 'node:util';
import { parseOrThrow } from '@ctlplane/core/driver';
import { z } from 'zod';

export const USAGE = `Usage: npm start -- [options]   (or: node --import tsx packages/examples/src/droplet-cloud/main.ts)

A droplet cloud built from ctlplane: API, Harpoon, Scheduler V2, an EventRouter per region and
simulated hypervisor agents. In memory and in one process unless told otherwise.

Fleet and workload
  --regions <a,b,c>         regions (default nyc1,sfo3,ams3)
  --hypervisors <n>         hypervisors per region (default 50)
  --capacity <list>         hypervisor sizes as vcpus x MiB, cycled (default 32x262144,48x393216,64x524288)
  --overcommit <r>          CPU overcommit ratio (default 2)
  --rate <n>                create requests per second (default 20; 0 for none)
  --requests <n>            create n droplets, wait until every one is done or failed, then exit
  --destroy-ratio <r>       destroy this fraction of booted droplets (default 0.2)
  --target-util <r>         without --requests: destroy the oldest droplets above this CPU utilisation (default 0.6)
  --boot-ms <n>             mean boot time of a droplet (default 1500)
  --fail-rate <r>           fraction of boots that fail (default 0.02)
  --duration <s>            exit after s seconds
  --seed <n>                random seed of the workload and the hypervisors (default 1)

Backends
  --mysql <url[,url…]>      MariaDB/MySQL, e.g. mysql://root@127.0.0.1:3306/test (default: in memory);
                            several comma-separated: the nodes of a Galera cluster (the adapter fails over)
  --amqp <url[,url…]>       RabbitMQ, e.g. amqp://guest:guest@127.0.0.1:5672 (default: in memory);
                            several comma-separated: the nodes of a cluster, reconnected round-robin
  --table-prefix <p>        MySQL table prefix (default dc_); also names the AMQP exchange
  --no-migrate              do not apply MySQL migrations at start (default: apply them)

Processes
  --role <role>             run one component: api | harpoon | scheduler | router | agents
                            (needs --mysql and --amqp; default: everything in this process)
  --host <host>             interface every server binds and connects to (default 127.0.0.1)
  --port-base <n>           harpoon = n, api = n+1, router of region i = n+10+i (default 7300)
  --metrics-port <n>        serve this process's /metrics on this port (roles)
  --token <secret>          shared secret the service tokens are derived from (env CTLPLANE_DEMO_TOKEN)
  --agent-secret <secret>   agent token signing key, 32+ chars (env CTLPLANE_DEMO_AGENT_SECRET)
  --router-replica <n>      router: which replica this process is (default 0); replica r of region i
                            listens on n+10+i+50r and has its own bus queue
  --router-replicas <n>     agents: connect to replicas 0..n-1 of their region's router, failing
                            over in that order (default 1)
  --router-source <s>       router: harpoon (read through Harpoon, pushed over the bus; default) or
                            mysql (poll the events table directly, like the 2013 Event Router)
  --agent-shard <i/n>       agents: run only the hypervisors whose index is i modulo n (default 0/1)
  --state-dir <dir>         agents: keep each hypervisor's droplets and a ledger of every event
                            received in <dir>/agents-<i>.jsonl, so a restarted agent resumes them
  --lease-ms <n>            scheduler: lease on claimed events (default 30000)
  --refresh-ms <n>          scheduler: re-read servers other processes changed this often (default 500)

Output
  --dashboard-port <n>      dashboard and /metrics (default 8080; 0 = any free port)
  --no-dashboard            serve no dashboard
  --summary-ms <n>          live summary interval (default 2000)
  --log-level <level>       debug | info | warn | error (default warn), JSON lines on stderr
  --trace                   register the OpenTelemetry SDK: service.name droplet-cloud-<role>, spans
                            kept in memory for the dashboard's waterfall
  --trace-file <path>       with --trace: also append every finished span to <path> as a JSON line
                            (processes may share one file; each batch is one O_APPEND write)
  -h, --help                this text
`;

/** The demo's shared secrets when none is given: fine on a laptop, never on a network. */
export const DEMO_TOKEN = 'droplet-cloud-demo-token';
/** See {@link DEMO_TOKEN}. */
export const DEMO_AGENT_SECRET = 'droplet-cloud-demo-agent-signing-key';

const ROLES = ['all', 'api', 'harpoon', 'scheduler', 'router', 'agents'] as const;
/** Which component(s) this process runs. */
export type Role = (typeof ROLES)[number];

const num = z.coerce.number();
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const ratio = num.pipe(z.number().min(0).max(1));
const name = z.string().regex(/^[a-z0-9][a-z0-9-]{0,30}$/, 'must be lower-case letters, digits or -');
const list = <T extends z.ZodType<unknown, string>>(item: T) =>
  z
    .union([z.array(z.string()), z.string().transform((s) => s.split(',').map((x) => x.trim()))])
    .pipe(z.array(item).min(1));
/**
 * One URL or several, comma-separated (the nodes of a cluster), each checked by `item`. The MySQL
 * list is handed to the adapter joined again (its `url` takes the comma-separated list), the AMQP
 * list as an array (`AmqpBus`'s `urls`).
 */
const urlList = (item: z.ZodType<string, string>) =>
  z
    .string()
    .transform((s) => s.split(',').map((x) => x.trim()))
    .pipe(z.array(item).min(1).max(16));
const capacity = z
  .string()
  .regex(/^\d+x\d+$/, 'must be <vcpus>x<MiB>, e.g. 48x196608')
  .transform((s) => {
    const [cpu, memory] = s.split('x').map(Number) as [number, number];
    return { cpu, memory };
  })
  .refine((c) => c.cpu >= 1 && c.memory >= 1_024, 'needs at least 1 vCPU and 1024 MiB');

const schema = z
  .object({
    role: z.enum(ROLES).default('all'),
    regions: list(name)
      .refine((r) => r.length <= 20 && new Set(r).size === r.length, 'must be 1 to 20 distinct names')
      .default(['nyc1', 'sfo3', 'ams3']),
    hypervisors: int(1, 2_000).default(50),
    capacity: list(capacity).default([
      { cpu: 32, memory: 262_144 },
      { cpu: 48, memory: 393_216 },
      { cpu: 64, memory: 524_288 },
    ]),
    overcommit: num.pipe(z.number().min(1).max(16)).default(2),
    rate: num.pipe(z.number().min(0).max(5_000)).default(20),
    requests: int(1, 1_000_000).optional(),
    destroyRatio: ratio.default(0.2),
    targetUtil: ratio.default(0.6),
    bootMs: int(0, 600_000).default(1_500),
    failRate: ratio.default(0.02),
    duration: num
      .pipe(
        z
          .number()
          .positive()
          .max(86_400 * 7),
      )
      .optional(),
    seed: int(0, 2 ** 31).default(1),
    mysql: urlList(z.string().startsWith('mysql://', 'must be a mysql:// URL'))
      .transform((urls) => urls.join(','))
      .optional(),
    amqp: urlList(z.string().regex(/^amqps?:\/\//, 'must be an amqp:// or amqps:// URL')).optional(),
    tablePrefix: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9_]{0,30}$/, 'must be a letter then letters, digits or _')
      .default('dc_'),
    migrate: z.boolean().default(true),
    host: z.string().min(1).default('127.0.0.1'),
    portBase: int(1, 65_000).default(7_300),
    metricsPort: int(0, 65_535).optional(),
    token: z.string().min(16, 'must be at least 16 characters').default(DEMO_TOKEN),
    agentSecret: z.string().min(32, 'must be at least 32 characters').default(DEMO_AGENT_SECRET),
    dashboardPort: int(0, 65_535).default(8_080),
    dashboard: z.boolean().default(true),
    routerReplica: int(0, 9).default(0),
    routerReplicas: int(1, 10).default(1),
    routerSource: z.enum(['harpoon', 'mysql']).default('harpoon'),
    agentShard: z
      .string()
      .regex(/^\d+\/\d+$/, 'must be <i>/<n>, e.g. 0/4')
      .transform((s) => {
        const [index, count] = s.split('/').map(Number) as [number, number];
        return { index, count };
      })
      .refine((s) => s.count >= 1 && s.count <= 100 && s.index < s.count, 'needs 0 <= i < n <= 100')
      .default({ index: 0, count: 1 }),
    stateDir: z.string().min(1).max(1_024).optional(),
    leaseMs: int(1_000, 3_600_000).default(30_000),
    refreshMs: int(10, 3_600_000).default(500),
    summaryMs: int(100, 3_600_000).default(2_000),
    logLevel: z.enum(['debug', 'info', 'warn', 'error']).default('warn'),
    trace: z.boolean().default(false),
    traceFile: z.string().min(1).max(1_024).optional(),
  })
  .strict()
  .refine((o) => o.requests === undefined || o.rate > 0, {
    message: 'a bounded run (--requests) needs a --rate above 0',
    path: ['rate'],
  })
  .refine((o) => o.traceFile === undefined || o.trace, {
    message: '--trace-file needs --trace',
    path: ['traceFile'],
  })
  .refine((o) => o.role === 'all' || (o.mysql && o.amqp), {
    message: 'a role other than all needs --mysql and --amqp (processes share MariaDB and RabbitMQ)',
    path: ['role'],
  });

/** Validated options. */
export type CloudOptions = z.output<typeof schema>;
/** Options as a caller (or a test) gives them, by camel-cased flag name; every field has a default. */
export type CloudInput = Partial<Record<keyof CloudOptions, unknown>>;

const FLAGS = [
  'role',
  'regions',
  'hypervisors',
  'capacity',
  'overcommit',
  'rate',
  'requests',
  'destroy-ratio',
  'target-util',
  'boot-ms',
  'fail-rate',
  'duration',
  'seed',
  'mysql',
  'amqp',
  'table-prefix',
  'host',
  'port-base',
  'metrics-port',
  'token',
  'agent-secret',
  'router-replica',
  'router-replicas',
  'router-source',
  'agent-shard',
  'state-dir',
  'lease-ms',
  'refresh-ms',
  'trace-file',
  'dashboard-port',
  'summary-ms',
  'log-level',
] as const;

const camel = (flag: string): string => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** Parse and validate options given as an object (flags already camel-cased). */
export function parseOptions(input: CloudInput | Record<string, unknown>): CloudOptions {
  return parseOrThrow(schema, input, 'options');
}

/** Parse argv (without node and the script). Returns null when help was asked for. */
export function parseCli(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): CloudOptions | null {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      ...Object.fromEntries(FLAGS.map((f) => [f, { type: 'string' as const }])),
      'no-migrate': { type: 'boolean' },
      'no-dashboard': { type: 'boolean' },
      trace: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return null;
  const given = values as Record<string, string | boolean | undefined>;
  const input: Record<string, unknown> = {};
  for (const f of FLAGS) if (given[f] !== undefined) input[camel(f)] = given[f];
  if (values['no-migrate']) input.migrate = false;
  if (values['no-dashboard']) input.dashboard = false;
  if (values.trace) input.trace = true;
  input.token ??= env.CTLPLANE_DEMO_TOKEN;
  input.agentSecret ??= env.CTLPLANE_DEMO_AGENT_SECRET;
  for (const k of ['token', 'agentSecret']) if (input[k] === undefined) delete input[k];
  return parseOptions(input);
}
