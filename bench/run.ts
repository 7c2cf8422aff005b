/**
 * `npm run bench -- <name> [args]`: runs bench/<name>.ts in its own process.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const [name, ...args] = process.argv.slice(2);
const dir = import.meta.dirname;
const available = readdirSync(dir)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts')
  .map((f) => f.slice(0, -3));
if (!name || !existsSync(join(dir, `${name}.ts`))) {
  console.error(`usage: npm run bench -- <name>\navailable: ${available.join(', ') || '(none)'}`);
  process.exit(2);
}
const result = spawnSync(process.execPath, ['--import', 'tsx', join(dir, `${name}.ts`), ...args], {
  stdio: 'inherit',
  env: { ...process.env, CTLPLANE_BENCH_COMMAND: `npm run bench -- ${[name, ...args].join(' ')}` },
});
process.exit(result.status ?? 1);
