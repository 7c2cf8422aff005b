/**
 * The droplet cloud's dashboard in headless Chromium, for a suite of browser tests: the cloud runs
 * as a user runs it, and each test opens the dashboard in a page of its own.
 */
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect } from 'vitest';
import { DROPLET_CLOUD, ExampleProcess } from '../integration/fixtures/examples-kit.js';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './chromium.js';

/** A suite's running dashboard; usable in its tests, once its `beforeAll` has run. */
export interface DashboardInChromium {
  /** A new page, 1440 x 1100, at the dashboard. The test closes it. */
  openPage(): Promise<Page>;
}

/**
 * Call inside a suite's `describe`: before its tests, start the droplet cloud with `args` (which
 * must serve the dashboard: `--dashboard-port`) and wait for the dashboard's URL, then launch
 * Chromium; after them, close Chromium and stop the cloud with SIGINT, expecting it to exit with 0.
 */
export function useDashboardInChromium(args: readonly string[]): DashboardInChromium {
  let cloud: ExampleProcess;
  let browser: Browser;
  let base = '';

  beforeAll(async () => {
    cloud = new ExampleProcess(DROPLET_CLOUD, args);
    base = (await cloud.waitFor(/^dashboard: (http:\/\/\S+)/m))[1]!;
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  });

  afterAll(async () => {
    await browser?.close();
    expect(await cloud?.stop('SIGINT')).toBe(0);
  });

  return {
    async openPage() {
      const page = await browser.newPage({ viewport: { width: 1440, height: 1100 } });
      await page.goto(base);
      return page;
    },
  };
}

/**
 * Create a droplet from the dashboard's form in `region` (and `size`, else the form's default)
 * and wait (at most 10 s) until the page shows the id it was given; returns that id.
 */
export async function createFromPage(page: Page, region: string, size?: string): Promise<string> {
  await page.selectOption('#create-region', region);
  if (size !== undefined) await page.selectOption('#create-size', size);
  await page.click('#create-button');
  await expect
    .poll(() => page.locator('#create-result').getAttribute('data-id'), { timeout: 10_000 })
    .toMatch(/^\d+$/);
  return (await page.locator('#create-result').getAttribute('data-id'))!;
}
