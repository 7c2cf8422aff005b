import { defineConfig } from 'tsup';

const shared = {
  entry: { index: 'src/index.ts' },
  dts: true,
  tsconfig: 'tsconfig.build.json',
  sourcemap: true,
  target: 'node20',
} as const;

export default defineConfig([
  { ...shared, format: ['esm'] },
  // p-queue ships ESM only: bundle it into the CommonJS build so `require` works everywhere.
  { ...shared, format: ['cjs'], noExternal: ['p-queue', 'p-timeout'] },
]);
