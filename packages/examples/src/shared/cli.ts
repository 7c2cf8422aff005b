/**
 * Flag parsing shared by the small examples: `--name value` flags validated with zod; a bad flag
 * prints the usage and the broken rule, not a stack trace.
 */
import { parseArgs } from 'node:util';
import { isCtlplaneError } from '@ctlplane/core';
import { parseOrThrow } from '@ctlplane/core/driver';
import type { z } from 'zod';

/** Parse `argv` with `schema` (flags kebab-case, fields camelCase); exits 2 with `usage` on error. */
export function parseFlags<S extends z.ZodType>(
  schema: S,
  flags: readonly string[],
  usage: string,
): z.output<S> {
  try {
    const { values } = parseArgs({
      args: process.argv.slice(2),
      strict: true,
      options: {
        ...Object.fromEntries(flags.map((f) => [f, { type: 'string' as const }])),
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      process.stdout.write(usage);
      process.exit(0);
    }
    const input = Object.fromEntries(
      Object.entries(values).map(([k, v]) => [k.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()), v]),
    );
    return parseOrThrow(schema, input, 'options');
  } catch (err) {
    const message = isCtlplaneError(err) || err instanceof TypeError ? err.message : String(err);
    process.stderr.write(`${message}\n\n${usage}`);
    process.exit(2);
  }
}
