/**
 * Options of `npm run abuse`, validated with zod: the full run by default, `--quick` for CI.
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { ATTACKS } from './attacks/index.js';

export const USAGE = `Usage: npm run abuse -- [options]

Starts Harpoon (HTTP, MariaDB store, RabbitMQ outbox relay) and an EventRouter (WebSocket, fed
over RabbitMQ) each in its own process, as the docs show, and replays issue 13's attacks and
their fast-check neighbours against them one after the other while a well-behaved client
measures its latency. Prints the verdict, writes bench/results/abuse.json (abuse-quick.json for
--quick, abuse-malloc-default.json for --malloc default) and its section of docs/reliability.md;
a run with --only prints its verdict and writes nothing. Loopback only; bounded in time.

  --quick              the CI-sized run (fewer connections and shorter floods; under 3 minutes)
  --only <attack>      run only these attacks (comma-separated): ${ATTACKS.map((a) => a.name).join(', ')}
  --seed <n>           fast-check seed (default 20261206)
  --port-base <n>      Harpoon listens on n, the router on n+1 (default 7900)
  --malloc <setting>   the servers' glibc malloc settings: tuned (default: MALLOC_ARENA_MAX=2
                       MALLOC_MMAP_THRESHOLD_=131072, as docs/operations.md recommends) or
                       default (glibc's own, to compare)
  --keep               keep the tables, exchange and logs afterwards
Services: CTLPLANE_MYSQL_URL (default mysql://root@127.0.0.1:3306/test) and CTLPLANE_AMQP_URL
(default amqp://guest:guest@127.0.0.1:5672).
`;

const names = ATTACKS.map((a) => a.name) as [string, ...string[]];
const schema = z
  .object({
    quick: z.boolean().default(false),
    only: z
      .string()
      .optional()
      .transform((s) => (s ? s.split(',').map((x) => x.trim()) : null))
      .pipe(z.array(z.enum(names, { message: `must name attacks among: ${names.join(', ')}` })).nullable()),
    seed: z.coerce
      .number()
      .int()
      .min(0)
      .max(2 ** 31)
      .default(20_261_206),
    portBase: z.coerce.number().int().min(1_024).max(65_000).default(7_900),
    malloc: z.enum(['tuned', 'default'], { message: 'must be tuned or default' }).default('tuned'),
    keep: z.boolean().default(false),
    mysql: z.string().startsWith('mysql://', 'must be a mysql:// URL'),
    amqp: z.string().regex(/^amqps?:\/\//, 'must be an amqp:// URL'),
  })
  .strict();

/** The validated options. */
export type AbuseOptions = z.output<typeof schema>;

/** Parse argv; prints the usage and exits on `--help` or a bad flag. */
export function abuseOptions(argv: readonly string[], env: NodeJS.ProcessEnv): AbuseOptions {
  try {
    const { values } = parseArgs({
      args: [...argv],
      strict: true,
      options: {
        quick: { type: 'boolean' },
        keep: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        only: { type: 'string' },
        seed: { type: 'string' },
        'port-base': { type: 'string' },
        malloc: { type: 'string' },
      },
    });
    if (values.help) {
      process.stdout.write(USAGE);
      process.exit(0);
    }
    const { help: _, 'port-base': portBase, ...rest } = values;
    const parsed = schema.safeParse({
      ...rest,
      portBase,
      mysql: env.CTLPLANE_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test',
      amqp: env.CTLPLANE_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672',
    });
    if (parsed.success) return parsed.data;
    throw new Error(parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; '));
  } catch (err) {
    process.stderr.write(`abuse: ${(err as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
}
