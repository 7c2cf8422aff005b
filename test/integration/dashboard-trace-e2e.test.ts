/**
 * The dashboard's trace waterfall in headless Chromium (issue #17): the droplet cloud in one
 * process with `--trace`; a droplet created from the page's form, then picked by clicking its
 * placement explanation, shows its trace as one row per span — the API's create first, then
 * Harpoon's group commit and relay rounds, the placement, the router's delivery and the agent's
 * handler — ordered by start. Saves the screenshot the README shows (docs/img/trace-waterfall.png).
 */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { describeWithChromium } from '../support/chromium.js';
import { createFromPage, useDashboardInChromium } from '../support/dashboard-in-chromium.js';

const SCREENSHOT = fileURLToPath(new URL('../../docs/img/trace-waterfall.png', import.meta.url));
const ARGS = [
  ...['--trace', '--dashboard-port', '0', '--regions', 'nyc1,sfo3', '--hypervisors', '8'],
  ...['--rate', '2', '--boot-ms', '400', '--fail-rate', '0', '--summary-ms', '5000'],
];

describeWithChromium('dashboard trace waterfall in Chromium', () => {
  const dashboard = useDashboardInChromium(ARGS);

  it('shows a created droplet’s trace as a waterfall, one row per span, in start order', async () => {
    const page = await dashboard.openPage();
    await page.locator('#create-region option').first().waitFor({ state: 'attached', timeout: 20_000 });
    const id = await createFromPage(page, 'sfo3');
    await page.locator(`#explanations [data-request-id="${id}"]`).click({ timeout: 30_000 });

    // The trace grows while the droplet boots; the page fetches it again with every snapshot.
    const rows = page.locator('#waterfall .span-row');
    await expect
      .poll(() => rows.evaluateAll((r) => r.map((x) => x.getAttribute('data-name'))), { timeout: 30_000 })
      .toEqual(expect.arrayContaining(['ctlplane.agent.handle', 'ctlplane.router.ack']));
    const got = await rows.evaluateAll((r) =>
      r.map((x) => ({
        name: x.getAttribute('data-name'),
        relation: x.getAttribute('data-relation'),
        service: x.getAttribute('data-service'),
        offset: Number(x.getAttribute('data-offset')),
        events: x.getAttribute('data-events'),
        bars: x.querySelectorAll('.span-bar').length,
      })),
    );
    expect(got[0]).toMatchObject({ name: 'droplet-cloud.api.create', relation: 'root', offset: 0 });
    expect(got.every((r) => r.bars === 1 && r.service === 'droplet-cloud')).toBe(true);
    const offsets = got.map((r) => r.offset);
    expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
    const at = (name: string) => got.findIndex((r) => r.name === name);
    for (const name of [
      'ctlplane.append',
      'ctlplane.schedule',
      'ctlplane.router.deliver',
      'ctlplane.agent.handle',
    ]) {
      expect(at(name), name).toBeGreaterThan(0);
    }
    expect(at('ctlplane.append')).toBeLessThan(at('ctlplane.schedule'));
    expect(at('ctlplane.schedule')).toBeLessThan(at('ctlplane.router.deliver'));
    expect(at('ctlplane.router.deliver')).toBeLessThan(at('ctlplane.agent.handle'));
    expect(got.find((r) => r.name === 'ctlplane.schedule')).toMatchObject({
      relation: 'child',
      events: expect.stringContaining('ctlplane.transition'),
    });
    expect(got.find((r) => r.name === 'ctlplane.relay.publish')?.relation).toBe('linked');
    expect(await page.locator('#trace-status').textContent()).toMatch(
      new RegExp(`^droplet #${id} · trace [0-9a-f]{8}… · ${got.length} spans over \\d+ ms$`),
    );

    mkdirSync(fileURLToPath(new URL('.', `file://${SCREENSHOT}`)), { recursive: true });
    await page.locator('#trace-panel').screenshot({ path: SCREENSHOT });
    await page.close();
  }, 120_000);
});
