import { defineConfig } from 'tsup';

const subpaths = ['memory', 'mysql', 'amqp', 'ws', 'prometheus'] as const;
const entry = Object.fromEntries(subpaths.map((s) => [`${s}/index`, `src/${s}/index.ts`]));

export default defineConfig([
  {
    entry: { ...entry, cli: 'src/cli.ts' },
    format: ['esm', 'cjs'],
    dts: { entry },
    tsconfig: 'tsconfig.build.json',
    sourcemap: true,
    target: 'node20',
    external: ['@ctlplane/core', 'mysql2', 'amqplib', 'ws', 'zod', 'prom-client'],
  },
]);
