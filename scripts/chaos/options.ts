/**
 * Options of `npm run chaos`, validated with zod: the full run by default, `--quick` for CI,
 * `--cluster` on the local Galera and RabbitMQ clusters. `mysql` and `amqp` are the nodes' URLs
 * (one each on single services).
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { GALERA_NODES, galeraUrl } from '../cluster/galera.js';
import { RABBIT_NODES, rabbitUrl } from '../cluster/rabbitmq.js';

export const USAGE = `Usage: npm run chaos -- [options]

Runs the droplet cloud as a multi-process deployment on MariaDB and RabbitMQ (Harpoon, two
schedulers, two router replicas, agents for 500 servers, the API), sends it a stream of droplet
requests while a seeded fault injector kills, restarts, disconnects and pauses its parts, then
checks the database and prints the verdict. Loopback only; bounded in time.

  --quick                 the CI-sized run (2,000 requests at 20/s, a fault every ~1.5 s;
                          under 5 minutes)
  --seed <n>              fault and workload seed (default 20261130)
  --requests <n>          droplet create requests (default 20,000; --cluster 10,000; quick 2,000)
  --rate <n>              requests per second (default 80; --cluster 30; quick 20)
  --fault-every-ms <n>    mean pause between faults (default 2,000; quick 1,500)
  --settle-s <n>          after the stream and the faults, wait at most this long for every
                          event to end (default 240; quick 120)
  --port-base <n>         first port (default 7600; uses n .. n+140)
  --cluster               on the local 3-node Galera and RabbitMQ clusters (\`npm run cluster\`,
                          started if not healthy): every process gets all three URLs of each, and
                          the injector also kills and restarts a Galera node (the writer at least
                          once) and a RabbitMQ node; writes bench/results/chaos-cluster.json
  --keep                  keep the tables, queues and logs afterwards
Services: CTLPLANE_MYSQL_URL (default mysql://root@127.0.0.1:3306/test) and CTLPLANE_AMQP_URL
(default amqp://guest:guest@127.0.0.1:5672). The run restarts RabbitMQ (rabbitmqctl stop_app /
start_app) and kills MariaDB connections: never point it at shared services. With --cluster the
services are the cluster's nodes (the variables are ignored).
`;

const schema = z
  .object({
    quick: z.boolean().default(false),
    seed: z.coerce
      .number()
      .int()
      .min(0)
      .max(2 ** 31)
      .default(20_261_130),
    requests: z.coerce.number().int().min(1).max(200_000).optional(),
    rate: z.coerce.number().positive().max(2_000).optional(),
    faultEveryMs: z.coerce.number().int().min(200).max(600_000).optional(),
    settleS: z.coerce.number().int().min(10).max(3_600).optional(),
    portBase: z.coerce.number().int().min(1_024).max(65_000).default(7_600),
    keep: z.boolean().default(false),
    cluster: z.boolean().default(false),
    mysql: z.array(z.string().startsWith('mysql://', 'must be a mysql:// URL')).min(1),
    amqp: z.array(z.string().regex(/^amqps?:\/\//, 'must be an amqp:// URL')).min(1),
  })
  .strict()
  .transform((o) => ({
    ...o,
    // On the clusters a full run is 10,000 requests at 30/s: every commit is certified and applied
    // on three nodes sharing the machine (half the single server's commits, docs/capacity.md), and
    // 80/s saturated a 2-core machine (docs/reliability.md, "Chaos on a cluster").
    requests: o.requests ?? (o.quick ? 2_000 : o.cluster ? 10_000 : 20_000),
    rate: o.rate ?? (o.quick ? 20 : o.cluster ? 30 : 80),
    faultEveryMs: o.faultEveryMs ?? (o.quick ? 1_500 : 2_000),
    settleS: o.settleS ?? (o.quick ? 120 : 240),
  }));

/** The validated options. */
export type ChaosOptions = z.output<typeof schema>;

/** Parse argv; prints the usage and exits on `--help` or a bad flag. */
export function chaosOptions(argv: readonly string[], env: NodeJS.ProcessEnv): ChaosOptions {
  try {
    const { values } = parseArgs({
      args: [...argv],
      strict: true,
      options: {
        quick: { type: 'boolean' },
        keep: { type: 'boolean' },
        cluster: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        ...Object.fromEntries(
          ['seed', 'requests', 'rate', 'fault-every-ms', 'settle-s', 'port-base'].map((f) => [
            f,
            { type: 'string' as const },
          ]),
        ),
      },
    });
    if (values.help) {
      process.stdout.write(USAGE);
      process.exit(0);
    }
    const input: Record<string, unknown> = Object.fromEntries(
      Object.entries(values).map(([k, v]) => [k.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()), v]),
    );
    input.mysql = values.cluster
      ? GALERA_NODES.map(galeraUrl)
      : [env.CTLPLANE_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test'];
    input.amqp = values.cluster
      ? RABBIT_NODES.map(rabbitUrl)
      : [env.CTLPLANE_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672'];
    const parsed = schema.safeParse(input);
    if (parsed.success) return parsed.data;
    throw new Error(parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; '));
  } catch (err) {
    process.stderr.write(`chaos: ${(err as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
}
