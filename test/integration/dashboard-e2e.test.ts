/**
 * The dashboard in headless Chromium (Debian's chromium driven by playwright-core): the page
 * loads, shows the fleet coloured by utilisation and the live connection counts, and updates when
 * a droplet is created from its form — the droplet's placement explanation appears. Saves the
 * screenshot the README shows (docs/img/dashboard.png).
 */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { describeWithChromium } from '../support/chromium.js';
import { createFromPage, useDashboardInChromium } from '../support/dashboard-in-chromium.js';
import { until } from './fixtures/examples-kit.js';

const SCREENSHOT = fileURLToPath(new URL('../../docs/img/dashboard.png', import.meta.url));
const HYPERVISORS = 50;
/** The default fleet of 3 x 50, with smaller hypervisors so that it fills within seconds. */
const ARGS = [
  ...[
    '--dashboard-port',
    '0',
    '--hypervisors',
    String(HYPERVISORS),
    '--capacity',
    '16x131072,24x196608,32x262144',
  ],
  ...['--rate', '50', '--target-util', '0.7', '--boot-ms', '800', '--summary-ms', '2000'],
];

describeWithChromium('dashboard in Chromium', () => {
  const dashboard = useDashboardInChromium(ARGS);

  it('shows the fleet live and updates when a droplet is created', async () => {
    const page = await dashboard.openPage();
    await expect.poll(() => page.locator('#fleet .hv').count(), { timeout: 20_000 }).toBe(3 * HYPERVISORS);
    await expect
      .poll(() => page.locator('#fleet .region h3').allTextContents())
      .toEqual([
        expect.stringMatching(/^nyc1 · 50 hypervisors · \d+% utilised$/),
        expect.stringMatching(/^sfo3 · 50 hypervisors · \d+% utilised$/),
        expect.stringMatching(/^ams3 · 50 hypervisors · \d+% utilised$/),
      ]);
    expect(await page.locator('#agents').textContent()).toBe(String(3 * HYPERVISORS));
    expect(await page.locator('#routers').textContent()).toBe('3');
    expect(await page.locator('#db').textContent()).toBe('2');

    // The workload fills the fleet: cells take different colours as utilisation grows.
    await until(
      async () => {
        const utils = await page
          .locator('#fleet .hv')
          .evaluateAll((cells) => cells.map((c) => Number(c.getAttribute('data-util'))));
        return utils.reduce((a, b) => a + b, 0) / utils.length > 0.4;
      },
      'the fleet 40% utilised',
      90_000,
    );
    const colours = await page
      .locator('#fleet .hv')
      .evaluateAll((cells) => new Set(cells.map((c) => c.getAttribute('style'))).size);
    expect(colours).toBeGreaterThan(3);

    // Create one droplet from the page; the page shows its id, then the scheduler's explanation.
    const doneBefore = Number(await page.locator('#counts [data-status="done"]').getAttribute('data-value'));
    const id = await createFromPage(page, 'sfo3', 'g-8vcpu-32gb');
    const card = page.locator(`#explanations [data-request-id="${id}"]`);
    await card.waitFor({ timeout: 30_000 });
    expect(await card.textContent()).toMatch(new RegExp(`#${id} g-8vcpu-32gb sfo3 → sfo3-hv-\\d+`));
    expect(await card.getAttribute('class')).toContain('mine');
    await expect
      .poll(() => page.locator('#create-result').textContent())
      .toMatch(new RegExp(`^droplet #${id} placed on sfo3-hv-\\d+$`));
    expect(await card.locator('.cand').count()).toBeGreaterThan(0);
    expect(await card.textContent()).toContain('least-allocated');
    await expect
      .poll(
        async () => Number(await page.locator('#counts [data-status="done"]').getAttribute('data-value')),
        { timeout: 20_000 },
      )
      .toBeGreaterThan(doneBefore);
    expect(await page.locator('#status-chart polyline').count()).toBe(7);

    mkdirSync(fileURLToPath(new URL('.', `file://${SCREENSHOT}`)), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    await page.close();
  }, 180_000);
});
