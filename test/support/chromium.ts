import { existsSync } from 'node:fs';
import { describe, it } from 'vitest';

/** Where Debian's chromium lives (override with `CTLPLANE_CHROMIUM`). Never `npx playwright install`. */
export const CHROMIUM_PATH = process.env.CTLPLANE_CHROMIUM ?? '/usr/bin/chromium';

/** Flags for headless Chromium in a container without a sandbox or a GPU. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--headless',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

const HINT = 'install it with: apt-get install -y chromium (or set CTLPLANE_CHROMIUM)';

/**
 * `describe` for a suite that drives a browser. Without Chromium: under CI=true the suite fails
 * (CI must run it); elsewhere it is skipped, loudly, with the reason in its name and on stderr.
 */
export function describeWithChromium(name: string, fn: () => void): void {
  if (existsSync(CHROMIUM_PATH)) {
    describe(name, fn);
    return;
  }
  const reason = `Chromium not found at ${CHROMIUM_PATH}; ${HINT}`;
  if (process.env.CI === 'true') {
    describe(name, () => {
      it('needs Chromium', () => {
        throw new Error(`CI=true and ${reason}`);
      });
    });
    return;
  }
  const bar = '!'.repeat(78);
  process.stderr.write(`\n${bar}\n!! SKIPPING "${name}": ${reason}\n${bar}\n\n`);
  describe.skip(`${name} [SKIPPED: ${reason}]`, fn);
}
