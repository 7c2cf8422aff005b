import { defineConfig } from 'tsup';

const shared = {
  // `@ctlplane/core` for applications, `@ctlplane/core/driver` for adapter authors.
  entry: { index: 'src/index.ts', driver: 'src/driver/index.ts' },
  dts: true,
  tsconfig: 'tsconfig.build.json',
  // No sourcemaps: they pointed at src/, which is not published, and were most of the tarball.
  sourcemap: false,
  target: 'node20',
  // Both entries share one copy of every module (a chunk), so a class such as ValidationError is
  // the same class whichever entry an error or an instance came through.
  splitting: true,
} as const;

export default defineConfig([
  { ...shared, format: ['esm'] },
  // p-queue ships ESM only: bundle it into the CommonJS build so `require` works everywhere.
  // `shims`: import.meta.url in the CommonJS build (tracing/otel.ts requires the optional
  // @opentelemetry/api through createRequire(import.meta.url)).
  { ...shared, format: ['cjs'], noExternal: ['p-queue', 'p-timeout'], shims: true },
]);
