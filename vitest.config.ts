import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (p: string) => fileURLToPath(new URL(p, import.meta.url));

/** The Galera cluster's node URLs (`npm run cluster -- up`), for the `galera` project only. */
const galeraUrls = process.env.CTLPLANE_GALERA_URLS;

const alias = [
  { find: /^@ctlplane\/core$/, replacement: src('./packages/core/src/index.ts') },
  { find: /^@ctlplane\/core\/driver$/, replacement: src('./packages/core/src/driver/index.ts') },
  { find: /^@ctlplane\/adapters\/(.*)$/, replacement: src('./packages/adapters/src/$1/index.ts') },
];

export default defineConfig({
  resolve: { alias },
  test: {
    globalSetup: ['./test/support/global-setup.ts'],
    projects: [
      {
        resolve: { alias },
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], testTimeout: 20_000 },
      },
      {
        resolve: { alias },
        test: {
          name: 'contract',
          include: ['test/contract/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        resolve: { alias },
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/smoke/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        resolve: { alias },
        test: {
          // Suites that restart brokers or kill connections: run alone, one file at a time.
          name: 'disruptive',
          include: ['test/disruptive/**/*.test.ts'],
          testTimeout: 300_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        resolve: { alias },
        test: {
          // The store on a 3-node Galera cluster (CTLPLANE_GALERA_URLS): its contract, the feed's
          // gap checks and a writer failover; every MySQL URL of these files is the node list.
          name: 'galera',
          include: [
            'test/galera/**/*.test.ts',
            'test/contract/event-store.mysql.test.ts',
            'test/integration/mysql-feed-no-gaps.test.ts',
            'test/integration/mysql-feed-stress.test.ts',
          ],
          globalSetup: ['./test/support/global-setup.ts', './test/support/galera-setup.ts'],
          env: galeraUrls ? { CTLPLANE_MYSQL_URL: galeraUrls } : {},
          testTimeout: 300_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
