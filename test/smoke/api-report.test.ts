/**
 * The public API of every entry point matches its committed report in etc/, so the surface changes
 * only on purpose: an intended change runs `npm run api:update` and commits the new reports beside
 * it, where the diff shows a reviewer what changed. Built from the sources (no build needed).
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildReports, REPORT_DIR } from '../../scripts/api-report/report.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('API reports (etc/*.api.md)', () => {
  it('match the API of every entry point; run `npm run api:update` after an intended change', () => {
    const { reports, problems } = buildReports(root);
    expect(problems).toEqual([]);
    expect(reports.length).toBeGreaterThanOrEqual(7);
    for (const r of reports) {
      expect(
        r.committed,
        `${REPORT_DIR}/${r.entry.report} is missing: run npm run api:update`,
      ).not.toBeNull();
      expect(r.current, `${REPORT_DIR}/${r.entry.report} differs: run npm run api:update if intended`).toBe(
        r.committed,
      );
    }
  }, 300_000);
});
