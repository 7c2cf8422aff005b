/**
 * `npm run api:check`: the public API of every entry point (`@ctlplane/core`,
 * `@ctlplane/core/driver`, `@ctlplane/adapters/*`) must match its committed report in etc/, so
 * the surface changes only on purpose. After an intended change, `npm run api:update` rewrites the
 * reports; commit them with the change, where a reviewer sees the API diff. test/unit/api-report
 * .test.ts runs the same check. See docs/adapters.md ("The API report").
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildReports, firstDifference, REPORT_DIR } from './api-report/report.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const update = process.argv.includes('--update');
const { reports, problems } = buildReports(root);
for (const p of problems) console.error(`problem: ${p}`);
if (update) {
  mkdirSync(join(root, REPORT_DIR), { recursive: true });
  for (const r of reports) {
    writeFileSync(join(root, REPORT_DIR, r.entry.report), r.current);
    console.log(`${r.current === r.committed ? 'unchanged' : 'written  '} ${REPORT_DIR}/${r.entry.report}`);
  }
  for (const p of problems.filter((p) => p.endsWith('belongs to no entry point')))
    rmSync(join(root, p.split(' ')[0]!), { force: true });
  process.exitCode = problems.some((p) => !p.endsWith('belongs to no entry point')) ? 1 : 0;
} else {
  const changed = reports.filter((r) => r.current !== r.committed);
  for (const r of changed) {
    console.error(
      `\n${REPORT_DIR}/${r.entry.report}: ${r.committed === null ? 'missing' : 'differs from the API'}`,
    );
    if (r.committed !== null) console.error(firstDifference(r.committed, r.current));
  }
  if (changed.length > 0)
    console.error('\nThe public API changed. If that is intended, run `npm run api:update` and commit etc/.');
  process.exitCode = changed.length > 0 || problems.length > 0 ? 1 : 0;
  if (process.exitCode === 0) console.log(`API reports match (${reports.length} entry points).`);
}
