/**
 * Options of the MySQL backends, parsed once with zod into frozen objects.
 *
 * @module
 */
import { type Logger, noopLogger } from '@ctlplane/core';
import { parseOrThrow } from '@ctlplane/core/driver';
import type { Pool } from 'mysql2/promise';
import { z } from 'zod';

/** Table prefixes: a letter, then letters, digits or `_`; at most 31 characters. */
export const TABLE_PREFIX_PATTERN = /^[A-Za-z][A-Za-z0-9_]{0,30}$/;

const schema = z
  .object({
    url: z.string().startsWith('mysql://', 'must be a mysql:// URL').optional(),
    pool: z
      .custom<Pool>(
        (v) => typeof v === 'object' && v !== null && 'getConnection' in v,
        'must be a mysql2/promise Pool',
      )
      .optional(),
    tablePrefix: z.string().regex(TABLE_PREFIX_PATTERN, `must match ${TABLE_PREFIX_PATTERN}`).default('ctl_'),
    poolSize: z.number().int().min(1, 'must be at least 1').max(256, 'must be at most 256').default(4),
    connectTimeoutMs: z.number().int().positive().default(10_000),
    logger: z
      .custom<Logger>((v) => typeof v === 'object' && v !== null && 'child' in v, 'must be a Logger')
      .optional(),
  })
  .strict()
  .refine((o) => (o.url === undefined) !== (o.pool === undefined), {
    message: 'give exactly one of url or pool',
    path: ['url'],
  });

/** Connection options shared by every MySQL backend. */
export interface MysqlOptions {
  /** `mysql://user:password@host:3306/database`. Give this or `pool`. */
  url?: string;
  /** An existing mysql2/promise pool (not closed by ctlplane). Give this or `url`. */
  pool?: Pool;
  /** Prefix of every table (default `ctl_`), validated against {@link TABLE_PREFIX_PATTERN}. */
  tablePrefix?: string;
  /** Connections in the pool created from `url` (default 4). The pool never holds more. */
  poolSize?: number;
  /** Connect timeout in ms (default 10,000). */
  connectTimeoutMs?: number;
  /** Logger (default: no-op). Passwords are never logged. */
  logger?: Logger;
}

/** @internal Parsed options. */
export interface ParsedMysqlOptions {
  readonly url: string | undefined;
  readonly pool: Pool | undefined;
  readonly tablePrefix: string;
  readonly poolSize: number;
  readonly connectTimeoutMs: number;
  readonly logger: Logger;
}

/** @internal */
export function parseMysqlOptions(options: MysqlOptions, what: string): ParsedMysqlOptions {
  const o = parseOrThrow(schema, options, what);
  return Object.freeze({
    url: o.url,
    pool: o.pool,
    tablePrefix: o.tablePrefix,
    poolSize: o.poolSize,
    connectTimeoutMs: o.connectTimeoutMs,
    logger: o.logger ?? noopLogger,
  });
}
