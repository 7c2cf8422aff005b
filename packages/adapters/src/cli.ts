#!/usr/bin/env node
/**
 * The `ctlplane` command: `ctlplane migrate --url mysql://… [--prefix ctl_]`.
 *
 * mysql2 is an optional peer dependency, so the MySQL adapter is imported only by the command that
 * needs it: `--help` and usage errors work without it, and `migrate` without it says what to
 * install instead of crashing on ERR_MODULE_NOT_FOUND.
 *
 * @internal
 * @module
 */
import { parseArgs } from 'node:util';
import { isCtlplaneError, maskSecrets } from '@ctlplane/core';

const USAGE = `usage: ctlplane migrate [--url mysql://user:pass@host:3306/db] [--prefix ctl_]

  --url      database URL (default: $CTLPLANE_MYSQL_URL)
  --prefix   table prefix (default: ctl_)
  --help     show this help`;

async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    process.stderr.write(`ctlplane: ${maskSecrets((err as Error).message)}\n\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (positionals[0] !== 'migrate' || positionals.length !== 1) {
    process.stderr.write(`ctlplane: unknown command "${maskSecrets(positionals.join(' '))}"\n\n${USAGE}\n`);
    return 2;
  }
  const url = values.url ?? process.env.CTLPLANE_MYSQL_URL;
  if (!url) {
    process.stderr.write(`ctlplane: --url or CTLPLANE_MYSQL_URL is required\n\n${USAGE}\n`);
    return 2;
  }
  const mysql = await loadMysqlAdapter();
  if (!mysql) {
    process.stderr.write(
      'ctlplane migrate needs the MySQL driver, an optional peer dependency: npm install mysql2\n',
    );
    return 1;
  }
  try {
    const r = await mysql.migrate({ url, tablePrefix: values.prefix ?? 'ctl_' });
    process.stdout.write(
      `applied ${r.applied.length} migration(s)${r.applied.length ? `: ${r.applied.join(', ')}` : ''}; ` +
        `${r.skipped.length} already applied; server ${r.serverVersion}\n`,
    );
    return 0;
  } catch (err) {
    const code = isCtlplaneError(err) ? err.code : 'ERROR';
    process.stderr.write(`ctlplane migrate failed (${code}): ${maskSecrets((err as Error).message)}\n`);
    return 1;
  }
}

/**
 * The MySQL adapter, or null when mysql2 is not installed. Imported through the package's own
 * `exports` (a self-reference), so the bin shares `dist/mysql` instead of bundling a copy.
 */
async function loadMysqlAdapter(): Promise<typeof import('@ctlplane/adapters/mysql') | null> {
  try {
    return await import('@ctlplane/adapters/mysql');
  } catch (err) {
    const e = err as { code?: string; message?: string };
    if (e.code === 'ERR_MODULE_NOT_FOUND' && /['"]mysql2(\/[^'"]*)?['"]/.test(e.message ?? '')) return null;
    throw err;
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: { url: { type: 'string' }, prefix: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
