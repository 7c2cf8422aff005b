import { defineConfig } from 'tsup';

const subpaths = ['memory', 'mysql', 'amqp', 'ws', 'prometheus'] as const;
const entry = Object.fromEntries(subpaths.map((s) => [`${s}/index`, `src/${s}/index.ts`]));

const external = ['@ctlplane/core', 'mysql2', 'amqplib', 'ws', 'zod', 'prom-client'];
const shared = {
  tsconfig: 'tsconfig.build.json',
  // No sourcemaps: they pointed at src/, which is not published, and were most of the tarball.
  sourcemap: false,
  target: 'node20',
  external,
} as const;

export default defineConfig([
  { ...shared, entry, format: ['esm', 'cjs'], dts: { entry } },
  // The `ctlplane` bin is run by node, as ESM only (package.json "bin": dist/cli.js). It imports
  // the MySQL adapter lazily through the package's own exports, so it bundles no copy of it.
  {
    ...shared,
    entry: { cli: 'src/cli.ts' },
    format: ['esm'],
    dts: false,
    external: [...external, '@ctlplane/adapters/mysql'],
  },
]);
