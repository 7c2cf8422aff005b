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

const mysqlUrl = z.string().startsWith('mysql://', 'must be a mysql:// URL');
/** Most nodes a list may name (a Galera cluster has 3, 5 or 7). */
const MAX_NODES = 9;

const schema = z
  .object({
    url: z
      .string()
      .startsWith('mysql://', 'must be a mysql:// URL (or a comma-separated list of them)')
      .refine(
        (v) => v.split(',').every((u) => u.trim().startsWith('mysql://')),
        'every comma-separated entry must be a mysql:// URL',
      )
      .optional(),
    urls: z
      .array(mysqlUrl)
      .min(1, 'must name at least one node')
      .max(MAX_NODES, `must name at most ${MAX_NODES} nodes`)
      .optional(),
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
  .refine((o) => [o.url, o.urls, o.pool].filter((v) => v !== undefined).length === 1, {
    message: 'give exactly one of url, urls or pool',
    path: ['url'],
  })
  .refine((o) => o.url === undefined || o.url.split(',').length <= MAX_NODES, {
    message: `must name at most ${MAX_NODES} nodes`,
    path: ['url'],
  });

/** Connection options shared by every MySQL backend. */
export interface MysqlOptions {
  /**
   * `mysql://user:password@host:3306/database`. Give this, `urls` or `pool`. A comma-separated
   * list of URLs means the nodes of one Galera cluster, as `urls` does (a comma inside a password
   * must then be percent-encoded, `%2C`).
   */
  url?: string;
  /**
   * The nodes of one MariaDB Galera cluster, in any order (every process should be given the same
   * list). The backend sends everything to one node, the writer: of the nodes that answer and are
   * `Synced` in the primary component, the one up the longest, so that every process picks the
   * same node without talking to the others. When the writer is lost (connection refused or
   * broken, or Galera's 1047 "not ready"), the backend picks again and carries on there; it never
   * moves back on its own while its writer is healthy. One URL behaves exactly as `url`.
   */
  urls?: readonly string[];
  /** An existing mysql2/promise pool (not closed by ctlplane). Give this, `url` or `urls`. */
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
  /** The node URLs (one for a single server), or empty with `pool`. */
  readonly urls: readonly string[];
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
    urls: o.urls ?? o.url?.split(',').map((u) => u.trim()) ?? [],
    pool: o.pool,
    tablePrefix: o.tablePrefix,
    poolSize: o.poolSize,
    connectTimeoutMs: o.connectTimeoutMs,
    logger: o.logger ?? noopLogger,
  });
}
